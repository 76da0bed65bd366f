--[[
  After Redis lost its data, a worker puts back the job it is still running: the slot busy
  under the job's token, its lease, and its entry for the watchdog. Only a slot that is out of
  service (just re-published: dead or booting) is taken; a slot someone else holds is left.

  KEYS[1] slot   KEYS[2] leases   KEYS[3] host running
  ARGV[1] slot id   ARGV[2] token   ARGV[3] now (ms)   ARGV[4] lease (ms from now)
  ARGV[5] running sandbox (JSON)   ARGV[6] pid   ARGV[7] events channel   ARGV[8] host

  Returns 1 restored; 0 the slot is not out of service; -1 no such slot.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return -1 end
if state ~= 'dead' and state ~= 'booting' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'busy', 'phase', 'running', 'token', ARGV[2], 'pid', ARGV[6], 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('PUBLISH', ARGV[7], 'running ' .. ARGV[8])
return 1
