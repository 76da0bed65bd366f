--[[
  A worker accepts a job on a claimed slot: checks and uses up the one-time token, extends the
  lease to the job's deadline and lists the sandbox for the watchdog.

  KEYS[1] slot            HASH
  KEYS[2] leases          ZSET slot id -> lease expiry (ms)
  KEYS[3] host running    HASH slot id -> running sandbox (JSON)
  ARGV[1] slot id
  ARGV[2] token
  ARGV[3] now (ms)
  ARGV[4] lease (ms from now)
  ARGV[5] running sandbox (JSON)
  ARGV[6] sandbox pid
  ARGV[7] events channel   ARGV[8] host (the host's watchdog hears "running <host>")

  Returns 1 started; -1 no such slot; -2 not claimed with this token; -3 token already used.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if not f[1] then return -1 end
if f[1] ~= 'busy' or f[3] ~= ARGV[2] or ARGV[2] == '' then return -2 end
if f[2] ~= 'claimed' then return -3 end
redis.call('HSET', KEYS[1], 'phase', 'running', 'pid', ARGV[6], 'killReason', '', 'updatedAt', ARGV[3])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]) + tonumber(ARGV[4]), ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
redis.call('PUBLISH', ARGV[7], 'running ' .. ARGV[8])
return 1
