--[[
  An execution's job is about to be handed over to a worker: it is running from now on. A
  cancel that came first wins: the job is not handed over, and never runs.

  KEYS[1] the execution's record   HASH
  ARGV[1] now (ISO time)

  Returns OK hand it over; CANCELLED it was cancelled (or has ended): do not; NO_RECORD Redis
  no longer knows it.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'cancelRequested', 'startedAt')
if not f[1] then return REPLY.NO_RECORD end
if f[1] == 'done' or f[1] == 'cancelled' or f[2] == '1' then return REPLY.CANCELLED end
redis.call('HSET', KEYS[1], 'state', 'running')
if not f[3] then redis.call('HSET', KEYS[1], 'startedAt', ARGV[1]) end
return REPLY.OK
