--[[
  An execution gets its final state, once: whoever comes second (a runner that outlived its
  lock, a second attempt after a router died) changes nothing.

  KEYS[1] the execution's record   HASH
  ARGV[1] final state (done or cancelled)   ARGV[2] field (result or error; empty: none)   ARGV[3] its JSON
  ARGV[4] now (ISO time)   ARGV[5] how long the record is kept from now (ms)

  Returns OK it is final now; FINAL it was already; NO_RECORD Redis no longer knows it.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return REPLY.NO_RECORD end
if state == 'done' or state == 'cancelled' then return REPLY.FINAL end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'finishedAt', ARGV[4])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], ARGV[2], ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return REPLY.OK
