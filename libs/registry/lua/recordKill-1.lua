--[[
  The watchdog writes why it is about to kill a running sandbox, before the kill, so that the
  worker can report it. Only for the job that holds the token (never the next one).

  KEYS[1] slot            HASH
  ARGV[1] token
  ARGV[2] reason

  Returns OK recorded; NOT_HOLDER the slot is not busy under this token; NOT_STARTED its job has
  not started yet.
]]
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if f[1] ~= 'busy' or f[3] ~= ARGV[1] then return REPLY.NOT_HOLDER end
if f[2] ~= 'running' then return REPLY.NOT_STARTED end
redis.call('HSET', KEYS[1], 'killReason', ARGV[2])
return REPLY.OK
