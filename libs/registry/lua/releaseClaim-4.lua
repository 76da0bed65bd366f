--[[
  A router gives back a claim it did not use (its client went away before the job was sent, or
  the hand-over failed): the untouched sandbox goes to the oldest waiting request, or back to
  the idle list. Once given back, the token can no longer start a job, so a success proves that
  the job never ran.

  KEYS[1] slot   KEYS[2] idle   KEYS[3] leases   KEYS[4] waiters
  ARGV[1] slot id   ARGV[2] token   ARGV[3] now (ms)
  ARGV[4] slot key prefix   ARGV[5] ticket key prefix   ARGV[6] assigned key prefix
  ARGV[7] router channel prefix

  Returns IDLE or ASSIGNED; NOT_HOLDER not claimed with this token; TOKEN_USED its job started.
]]
--- @include "dispatch"
local f = redis.call('HMGET', KEYS[1], 'state', 'phase', 'token')
if f[1] ~= 'busy' or f[3] ~= ARGV[2] then return REPLY.NOT_HOLDER end
if f[2] ~= 'claimed' then return REPLY.TOKEN_USED end
local Q = { idle = KEYS[2], leases = KEYS[3], waiters = KEYS[4], slotPrefix = ARGV[4], ticketPrefix = ARGV[5],
  assignedPrefix = ARGV[6], routerPrefix = ARGV[7], now = tonumber(ARGV[3]) }
redis.call('ZREM', Q.leases, ARGV[1])
return makeIdle(Q, ARGV[1])
