--[[
  A router gives back a claim it could not use (the client went away before the job was sent):
  the untouched sandbox is idle again, at the head of the idle list.

  KEYS[1] slot            HASH
  KEYS[2] idle            LIST
  KEYS[3] leases          ZSET
  ARGV[1] slot id
  ARGV[2] token
  ARGV[3] now (ms)
  ARGV[4] events channel

  Returns 1 released; 0 not claimed with this token (started, expired or reclaimed).
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if f[1] ~= 'busy' or f[2] ~= 'claimed' or f[3] ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'idle', 'phase', '', 'token', '', 'updatedAt', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('PUBLISH', ARGV[4], 'idle ' .. ARGV[1])
return 1
