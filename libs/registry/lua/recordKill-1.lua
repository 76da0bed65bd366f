--[[
  The watchdog writes why it is about to kill a running sandbox, before the kill, so that the
  worker can report it. Only for the job that holds the token (never the next one).

  KEYS[1] slot            HASH
  ARGV[1] token
  ARGV[2] reason

  Returns 1 recorded; 0 the job is no longer running under this token.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if f[1] ~= 'busy' or f[2] ~= 'running' or f[3] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'killReason', ARGV[2])
return 1
