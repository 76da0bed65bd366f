--[[
  Gives back every claim whose lease ran out before its worker started the job (its router
  died, or lost the request without giving the claim back): the untouched sandbox goes to the
  oldest waiting request, or back to the idle list. Run by a timer, so that a slot does not
  wait for the next request to be reclaimed. A running job past its lease is left alone: the
  watchdog kills its sandbox, which it finds through the job's entry, and the worker (or the
  watchdog's sweep, if the worker is gone) then frees the slot.

  KEYS[1] idle   KEYS[2] leases   KEYS[3] waiters
  ARGV[1] slot key prefix   ARGV[2] ticket key prefix   ARGV[3] assigned key prefix
  ARGV[4] router channel prefix   ARGV[5] now (ms)   ARGV[6] most leases looked at

  Returns {OK, how many claims were given back}.
]]
--- @include "dispatch"
local Q = { idle = KEYS[1], leases = KEYS[2], waiters = KEYS[3], slotPrefix = ARGV[1], ticketPrefix = ARGV[2],
  assignedPrefix = ARGV[3], routerPrefix = ARGV[4], now = tonumber(ARGV[5]) }
local count = 0
for _, id in ipairs(redis.call('ZRANGEBYSCORE', Q.leases, '-inf', Q.now, 'LIMIT', 0, tonumber(ARGV[6]))) do
  local f = redis.call('HMGET', Q.slotPrefix .. id, 'state', 'phase')
  if f[1] == 'busy' and f[2] == 'claimed' then
    redis.call('ZREM', Q.leases, id)
    makeIdle(Q, id)
    count = count + 1
  end
end
return {REPLY.OK, count}
