--[[
  A router asks for a slot for one request, first come first served across every router.
  When nobody waits and a slot is idle, it is claimed at once. Otherwise the request's ticket
  joins the end of the shared queue and idle slots (if any) go to the oldest tickets; when this
  request's own ticket got one the lease is returned at once, else its router hears
  "assigned <ticket>" on its channel when a slot frees up.

  KEYS[1] idle   KEYS[2] leases   KEYS[3] waiters   KEYS[4] the ticket
  ARGV[1] slot key prefix      ARGV[2] running key prefix   ARGV[3] job key prefix
  ARGV[4] ticket key prefix    ARGV[5] assigned key prefix  ARGV[6] router channel prefix
  ARGV[7] now (ms)   ARGV[8] claim TTL (ms)   ARGV[9] ticket   ARGV[10] deadline (ms)
  ARGV[11] router id  ARGV[12] token          ARGV[13] request id
  ARGV[14] reserve: 0 for a client's request; for background work, how many idle slots it must
           leave to clients. Such a request claims only while nobody waits and more than that
           many slots are idle; else it is not queued and gets {RESERVED} (it asks again).

  Returns the lease {CLAIMED, field, value, …}, {QUEUED} or {RESERVED}.
]]
--- @include "dispatch"
local Q = { idle = KEYS[1], leases = KEYS[2], waiters = KEYS[3], slotPrefix = ARGV[1], runningPrefix = ARGV[2],
  jobPrefix = ARGV[3], ticketPrefix = ARGV[4], assignedPrefix = ARGV[5], routerPrefix = ARGV[6], now = tonumber(ARGV[7]) }
local ttl, ticket, token = tonumber(ARGV[8]), ARGV[9], ARGV[12]
reclaimExpired(Q)

-- Nobody waits and more than `reserve` slots are idle: one is claimed at once.
local reserve = tonumber(ARGV[14]) or 0
if redis.call('LLEN', Q.waiters) == 0 and redis.call('LLEN', Q.idle) > reserve then
  local id = popIdle(Q)
  if id then
    local ip, port, host = claim(Q, id, token, ARGV[13], ttl)
    return leaseReply(id, ip, port, host, token)
  end
end
-- Work with a reserve never queues: it asks again later.
if reserve > 0 then return {REPLY.RESERVED} end

redis.call('RPUSH', Q.waiters, ticket)
redis.call('HSET', KEYS[4], 'deadline', ARGV[10], 'router', ARGV[11], 'token', token, 'requestId', ARGV[13], 'claimTtlMs', ARGV[8])
while true do
  local id = popIdle(Q)
  if not id then break end
  local t = nextLiveTicket(Q)
  if not t then
    redis.call('LPUSH', Q.idle, id)
    break
  end
  assign(Q, id, t)
end

return takeAssigned(Q.assignedPrefix .. ticket) or {REPLY.QUEUED}
