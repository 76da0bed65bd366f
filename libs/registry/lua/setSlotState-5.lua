--[[
  Moves a slot to "booting" or "dead" (worker: a sandbox is being replaced, failed to boot, or
  the worker is stopping; router: the slot's worker refused the connection). Never takes a
  slot away from a lease the caller does not hold.

  KEYS[1] slot   KEYS[2] leases   KEYS[3] host running   KEYS[4] idle   KEYS[5] the slot's job
  ARGV[1] slot id   ARGV[2] new state ("booting" or "dead")   ARGV[3] token held by the caller, or ''
  ARGV[4] now (ms)

  Returns OK changed; NO_SLOT; NOT_HOLDER busy under another token.
]]
--- @include "jobs"
local f = redis.call('HMGET', KEYS[1], 'state', 'token')
if not f[1] then return REPLY.NO_SLOT end
if f[1] == 'busy' and f[2] ~= ARGV[3] then return REPLY.NOT_HOLDER end
if f[1] == 'idle' then redis.call('LREM', KEYS[4], 0, ARGV[1]) end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'phase', '', 'token', '', 'updatedAt', ARGV[4])
redis.call('ZREM', KEYS[2], ARGV[1])
dropJob(KEYS[3], KEYS[5], ARGV[1])
return REPLY.OK
