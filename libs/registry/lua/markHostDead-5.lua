--[[
  A host's worker is gone (its heartbeat expired): every slot of the host goes out of service,
  whatever it was doing, so that no router is handed a slot nobody serves. The worker puts
  them back when it returns (the "inventory" event tells it at once if it is only late).

  KEYS[1] host slots   KEYS[2] idle   KEYS[3] leases   KEYS[4] host running   KEYS[5] heartbeat
  ARGV[1] slot key prefix   ARGV[2] job key prefix   ARGV[3] now (ms)   ARGV[4] events channel
  ARGV[5] host

  Returns {OK, how many slots were taken out of service}; {HOST_ALIVE} when the worker beat again meanwhile.
]]
--- @include "jobs"
if redis.call('EXISTS', KEYS[5]) == 1 then return {REPLY.HOST_ALIVE} end
local count = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = ARGV[1] .. id
  if redis.call('HGET', key, 'state') ~= 'dead' then
    redis.call('HSET', key, 'state', 'dead', 'phase', '', 'token', '', 'updatedAt', ARGV[3])
    redis.call('LREM', KEYS[2], 0, id)
    redis.call('ZREM', KEYS[3], id)
    count = count + 1
  end
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[4])) do dropJob(KEYS[4], ARGV[2] .. id, id) end
if count > 0 then publish(ARGV[4], 'inventory ' .. ARGV[5]) end
return {REPLY.OK, count}
