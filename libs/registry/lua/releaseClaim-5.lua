--[[
  A router gives back a claim it did not use (its client went away before the job was sent):
  the untouched sandbox goes to the oldest waiting request, or back to the idle list.

  KEYS[1] slot   KEYS[2] idle   KEYS[3] leases   KEYS[4] waiters   KEYS[5] tickets
  ARGV[1] slot id   ARGV[2] token   ARGV[3] now (ms)
  ARGV[4] slot key prefix   ARGV[5] assigned key prefix   ARGV[6] router channel prefix

  Returns 1 idle, 2 handed to a waiting request; 0 not claimed with this token.
]]
--- @include "dispatch"
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if f[1] ~= 'busy' or f[2] ~= 'claimed' or f[3] ~= ARGV[2] then return 0 end
local Q = { idle = KEYS[2], leases = KEYS[3], waiters = KEYS[4], tickets = KEYS[5],
  slotPrefix = ARGV[4], assignedPrefix = ARGV[5], routerPrefix = ARGV[6], now = tonumber(ARGV[3]) }
redis.call('ZREM', Q.leases, ARGV[1])
return makeIdle(Q, ARGV[1])
