--[[
  A router asks for a slot for one request, first come first served across every router.
  When nobody waits and a slot is idle, it is claimed at once. Otherwise the request's ticket
  joins the end of the shared queue and idle slots (if any) go to the oldest tickets; when this
  request's own ticket got one the lease is returned at once, else its router hears
  "assigned <ticket>" on its channel when a slot frees up.

  KEYS[1] idle   KEYS[2] leases   KEYS[3] waiters   KEYS[4] tickets
  ARGV[1] slot key prefix      ARGV[2] running key prefix
  ARGV[3] assigned key prefix  ARGV[4] router channel prefix
  ARGV[5] now (ms)   ARGV[6] claim TTL (ms)   ARGV[7] ticket   ARGV[8] deadline (ms)
  ARGV[9] router id  ARGV[10] token           ARGV[11] request id

  Returns {'claimed', slot, ip, port, host} or {'queued'}.
]]
--- @include "dispatch"
local Q = { idle = KEYS[1], leases = KEYS[2], waiters = KEYS[3], tickets = KEYS[4],
  slotPrefix = ARGV[1], assignedPrefix = ARGV[3], routerPrefix = ARGV[4], now = tonumber(ARGV[5]) }
local ttl, ticket = tonumber(ARGV[6]), ARGV[7]
reclaimExpired(Q, ARGV[2])

if redis.call('LLEN', Q.waiters) == 0 then
  local id = popIdle(Q)
  if id then
    local ip, port, host = claim(Q, id, ARGV[10], ARGV[11], ttl)
    return {'claimed', id, ip, port, host}
  end
end

redis.call('RPUSH', Q.waiters, ticket)
redis.call('HSET', Q.tickets, ticket, ARGV[8] .. ' ' .. ARGV[9] .. ' ' .. ARGV[10] .. ' ' .. ARGV[11] .. ' ' .. ARGV[6])
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

local mine = Q.assignedPrefix .. ticket
local value = redis.call('GET', mine)
if value then
  redis.call('DEL', mine)
  local id, ip, port, host = string.match(value, '^(%S+) (%S+) (%S+) (%S+)')
  return {'claimed', id, ip, port, host}
end
return {'queued'}
