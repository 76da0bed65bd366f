--[[
  Admits one request of an API key, or says which of its limits it is over. Concurrency is
  checked first (a refused request does not use up rate); in-flight entries expire by
  themselves if the router that made them dies.

  KEYS[1] the key's rate counter for this window   KEYS[2] the key's in-flight ZSET
  ARGV[1] now (ms)   ARGV[2] requests allowed per window   ARGV[3] window (ms)
  ARGV[4] requests allowed in flight   ARGV[5] request id   ARGV[6] how long an entry counts (ms)

  Returns {OK} admitted; {OVER_RATE, ms until the window ends}; {OVER_CONCURRENCY}.
]]
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return {REPLY.OVER_CONCURRENCY} end
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if count > tonumber(ARGV[2]) then return {REPLY.OVER_RATE, redis.call('PTTL', KEYS[1])} end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[6]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {REPLY.OK}
