--[[
  A router takes up an execution kept in the background (it was queued, or its last runner
  died): it is running, one attempt more. A cancel asked for meanwhile ends it instead.

  KEYS[1] the execution's record   HASH
  ARGV[1] now (ISO time)

  Returns {OK, attempts} take it up; {CANCELLED} it was cancelled before it could start (the
  record says so now); FINAL it already has its final state; NO_RECORD Redis no longer knows it.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'cancelRequested', 'startedAt')
if not f[1] then return REPLY.NO_RECORD end
if f[1] == 'done' or f[1] == 'cancelled' then return REPLY.FINAL end
if f[2] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[1])
  return {REPLY.CANCELLED}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], 'state', 'running')
if not f[3] then redis.call('HSET', KEYS[1], 'startedAt', ARGV[1]) end
return {REPLY.OK, attempts}
