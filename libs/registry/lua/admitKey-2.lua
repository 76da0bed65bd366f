--[[
  Admits requests of an API key, or says which of its limits they are over. Concurrency is
  checked first (a refused request does not use up rate); in-flight entries expire by
  themselves if the router that made them dies. A submission of many executions (tests, a
  batch) counts them all against the rate at once, when it is accepted; each of its executions
  then takes a place in flight (with no rate) only while it runs.

  KEYS[1] the key's rate counter for this window   KEYS[2] the key's in-flight ZSET
  ARGV[1] now (ms)   ARGV[2] requests allowed per window   ARGV[3] window (ms)
  ARGV[4] requests allowed in flight   ARGV[5] request id   ARGV[6] how long an entry counts (ms)
  ARGV[7] requests this counts against the rate (0: none)   ARGV[8] 1: it takes a place in flight

  Returns {OK} admitted; {OVER_RATE, ms until the window ends}; {OVER_CONCURRENCY}.
]]
local now = tonumber(ARGV[1])
local weight = tonumber(ARGV[7])
local inFlight = ARGV[8] == '1'
if inFlight then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return {REPLY.OVER_CONCURRENCY} end
end
if weight > 0 then
  local used = tonumber(redis.call('GET', KEYS[1]) or '0')
  if used + weight > tonumber(ARGV[2]) then
    local ttl = redis.call('PTTL', KEYS[1])
    return {REPLY.OVER_RATE, ttl > 0 and ttl or tonumber(ARGV[3])}
  end
  local count = redis.call('INCRBY', KEYS[1], weight)
  if count == weight then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
end
if inFlight then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[6])
end
return {REPLY.OK}
