--[[
  Claims the longest-idle slot for one job: a lease with a one-time token and a TTL (router).
  First returns expired leases: a slot claimed but never started goes back to idle (its
  sandbox is untouched); a slot whose job outlived its lease is marked dead (its worker is
  gone or stuck; the worker re-registers it when it recovers).

  KEYS[1] idle            LIST of slot ids, oldest first
  KEYS[2] leases          ZSET slot id -> lease expiry (ms)
  ARGV[1] slot key prefix
  ARGV[2] running key prefix (+ host)
  ARGV[3] now (ms)
  ARGV[4] lease TTL (ms)
  ARGV[5] token
  ARGV[6] request id

  Returns {id, ip, port, host}, or false when no slot is idle.
]]
local prefix, runningPrefix = ARGV[1], ARGV[2]
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 32)
for _, id in ipairs(expired) do
  local key = prefix .. id
  local f = redis.call('HMGET', key, 'phase', 'host')
  redis.call('ZREM', KEYS[2], id)
  if f[1] == 'claimed' then
    redis.call('HSET', key, 'state', 'idle', 'phase', '', 'token', '', 'updatedAt', now)
    redis.call('RPUSH', KEYS[1], id)
  elseif f[1] == 'running' then
    redis.call('HSET', key, 'state', 'dead', 'phase', '', 'token', '', 'updatedAt', now)
    redis.call('HDEL', runningPrefix .. f[2], id)
  end
end

while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then return false end
  local key = prefix .. id
  local f = redis.call('HMGET', key, 'state', 'ip', 'port', 'host')
  -- entries of slots that were removed or changed state meanwhile are stale: skip them
  if f[1] == 'idle' and f[3] ~= '' then
    redis.call('HSET', key, 'state', 'busy', 'phase', 'claimed', 'token', ARGV[5], 'requestId', ARGV[6], 'updatedAt', now)
    redis.call('ZADD', KEYS[2], now + ttl, id)
    return {id, f[2], f[3], f[4]}
  end
end
