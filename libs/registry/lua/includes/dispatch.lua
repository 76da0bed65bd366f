--[[
  Shared by every script that frees a slot or queues a request (included with
  `--- @include "dispatch"`). Q holds what the functions need:
    Q.idle, Q.leases, Q.waiters                       keys
    Q.slotPrefix, Q.ticketPrefix, Q.assignedPrefix    key prefixes
    Q.runningPrefix, Q.jobPrefix                      key prefixes (reclaimExpired only)
    Q.routerPrefix                                    channel prefix
    Q.now                                             ms
  Invariants kept: an idle slot is in the idle list exactly once; idle slots and live tickets
  never both exist when a script ends (a freed slot goes to the oldest waiting request first).
]]
--- @include "assignment"
--- @include "jobs"

-- The oldest ticket whose request still waits; tickets past their deadline are dropped.
local function nextLiveTicket(Q)
  while true do
    local ticket = redis.call('LPOP', Q.waiters)
    if not ticket then return nil end
    local key = Q.ticketPrefix .. ticket
    local f = redis.call('HMGET', key, 'deadline', 'router', 'token', 'requestId', 'claimTtlMs')
    redis.call('DEL', key)
    local deadline, ttl = tonumber(f[1]), tonumber(f[5])
    if deadline and ttl and deadline > Q.now then
      return { id = ticket, router = f[2], token = f[3], requestId = f[4], ttl = ttl }
    end
  end
end

-- Claims slot `id` under a token: busy, phase claimed, a lease of ttl ms. Returns ip, port, host.
local function claim(Q, id, token, requestId, ttl)
  local key = Q.slotPrefix .. id
  redis.call('HSET', key, 'state', 'busy', 'phase', 'claimed', 'token', token, 'requestId', requestId, 'updatedAt', Q.now)
  redis.call('ZADD', Q.leases, Q.now + ttl, id)
  local f = redis.call('HMGET', key, 'ip', 'port', 'host')
  return f[1], f[2], f[3]
end

-- Hands slot `id` to a waiting ticket and tells the ticket's router on its channel.
local function assign(Q, id, t)
  local ip, port, host = claim(Q, id, t.token, t.requestId, t.ttl)
  writeAssigned(Q.assignedPrefix .. t.id, id, ip, port, host, t.token, t.ttl)
  publish(Q.routerPrefix .. t.router, 'assigned ' .. t.id)
end

-- A slot whose sandbox is ready: to the oldest waiting request, else to the end of the idle list.
local function makeIdle(Q, id)
  local t = nextLiveTicket(Q)
  if t then
    assign(Q, id, t)
    return REPLY.ASSIGNED
  end
  redis.call('HSET', Q.slotPrefix .. id, 'state', 'idle', 'phase', '', 'token', '', 'updatedAt', Q.now)
  redis.call('LREM', Q.idle, 0, id)
  redis.call('RPUSH', Q.idle, id)
  return REPLY.IDLE
end

-- The longest-idle slot that is still idle and served by a worker (entries that are not are dropped).
local function popIdle(Q)
  while true do
    local id = redis.call('LPOP', Q.idle)
    if not id then return nil end
    local f = redis.call('HMGET', Q.slotPrefix .. id, 'state', 'port')
    if f[1] == 'idle' and f[2] ~= '' then return id end
  end
end

-- Ends expired leases: a claim that never started goes back into service (its sandbox is
-- untouched); a job that outlived its lease marks its slot dead (its worker is gone or stuck).
local function reclaimExpired(Q)
  local expired = redis.call('ZRANGEBYSCORE', Q.leases, '-inf', Q.now, 'LIMIT', 0, 32)
  for _, id in ipairs(expired) do
    local key = Q.slotPrefix .. id
    local f = redis.call('HMGET', key, 'phase', 'host')
    redis.call('ZREM', Q.leases, id)
    if f[1] == 'claimed' then
      makeIdle(Q, id)
    elseif f[1] == 'running' then
      redis.call('HSET', key, 'state', 'dead', 'phase', '', 'token', '', 'updatedAt', Q.now)
      dropJob(Q.runningPrefix .. f[2], Q.jobPrefix .. id, id)
    end
  end
end
