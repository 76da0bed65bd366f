--[[
  Replaces the webhook's record of an execution (its delivery runner is the only writer), but
  never brings back a record that has expired.

  KEYS[1] the execution's record   HASH
  ARGV[1] the webhook record (JSON)

  Returns OK written; NO_RECORD the execution is gone.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return REPLY.NO_RECORD end
redis.call('HSET', KEYS[1], 'webhook', ARGV[1])
return REPLY.OK
