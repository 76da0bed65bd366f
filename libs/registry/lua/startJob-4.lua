--[[
  A worker accepts a job on a claimed slot: checks and uses up the one-time token, extends the
  lease to the job's deadline and lists the job for the watchdog.

  KEYS[1] slot            HASH
  KEYS[2] leases          ZSET slot id -> lease expiry (ms)
  KEYS[3] host running    SET of the host's slot ids running a job
  KEYS[4] the slot's job  HASH, the watchdog's view of the job
  ARGV[1] slot id   ARGV[2] token   ARGV[3] now (ms)   ARGV[4] lease (ms from now)
  ARGV[5] sandbox pid
  ARGV[6] events channel   ARGV[7] host (the host's watchdog hears "running <host>")
  ARGV[8..] the job's fields for the watchdog, as field/value pairs

  Returns OK started; NO_SLOT; NOT_HOLDER not claimed with this token; TOKEN_USED already started.
]]
--- @include "jobs"
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if not f[1] then return REPLY.NO_SLOT end
if f[1] ~= 'busy' or f[3] ~= ARGV[2] or ARGV[2] == '' then return REPLY.NOT_HOLDER end
if f[2] ~= 'claimed' then return REPLY.TOKEN_USED end
redis.call('HSET', KEYS[1], 'phase', 'running', 'pid', ARGV[5], 'killReason', '', 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
writeJob(KEYS[3], KEYS[4], ARGV[1], { unpack(ARGV, 8) })
publish(ARGV[6], 'running ' .. ARGV[7])
return REPLY.OK
