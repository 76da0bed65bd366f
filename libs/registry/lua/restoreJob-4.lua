--[[
  After Redis lost its data, a worker puts back the job it is still running: the slot busy
  under the job's token, its lease, and its entry for the watchdog. Only a slot that is out of
  service (just re-published: dead or booting) is taken; a slot someone else holds is left.

  KEYS[1] slot   KEYS[2] leases   KEYS[3] host running   KEYS[4] the slot's job
  ARGV[1] slot id   ARGV[2] token   ARGV[3] now (ms)   ARGV[4] lease (ms from now)
  ARGV[5] pid   ARGV[6] events channel   ARGV[7] host
  ARGV[8..] the job's fields for the watchdog, as field/value pairs

  Returns OK restored; IN_SERVICE the slot is not out of service; NO_SLOT.
]]
--- @include "jobs"
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return REPLY.NO_SLOT end
if state ~= 'dead' and state ~= 'booting' then return REPLY.IN_SERVICE end
redis.call('HSET', KEYS[1], 'state', 'busy', 'phase', 'running', 'token', ARGV[2], 'pid', ARGV[5], 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
writeJob(KEYS[3], KEYS[4], ARGV[1], { unpack(ARGV, 8) })
publish(ARGV[6], 'running ' .. ARGV[7])
return REPLY.OK
