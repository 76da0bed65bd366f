--[[
  A worker has a fresh sandbox ready on a slot: the slot becomes idle and joins the end of the
  idle list. Used after every job (with the job's token) and after a first boot (no token).

  KEYS[1] slot            HASH
  KEYS[2] idle            LIST
  KEYS[3] leases          ZSET
  KEYS[4] host running    HASH
  ARGV[1] slot id
  ARGV[2] token of the job that just ended, or ''
  ARGV[3] now (ms)
  ARGV[4] pid of the fresh sandbox
  ARGV[5] worker port
  ARGV[6] events channel

  Returns 1 idle now; 0 already idle; -1 no such slot; -2 claimed by another token.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'token')
if not f[1] then return -1 end
if f[1] == 'busy' and f[2] ~= ARGV[2] then return -2 end
if f[1] == 'idle' then
  redis.call('HSET', KEYS[1], 'pid', ARGV[4], 'port', ARGV[5])
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'idle', 'phase', '', 'token', '', 'killReason', '',
  'pid', ARGV[4], 'port', ARGV[5], 'updatedAt', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[6], 'idle ' .. ARGV[1])
return 1
