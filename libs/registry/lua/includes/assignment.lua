--[[
  The lease a queued ticket was given, kept in the ticket's assigned HASH (slotId, ip, port,
  host, token, with a TTL) until its router takes it. Written and read here only.
]]

-- A lease as scripts reply it: the code CLAIMED, then field/value pairs.
local function leaseReply(id, ip, port, host, token)
  return {REPLY.CLAIMED, 'slotId', id, 'ip', ip, 'port', port, 'host', host, 'token', token}
end

local function writeAssigned(key, id, ip, port, host, token, ttl)
  redis.call('HSET', key, 'slotId', id, 'ip', ip, 'port', port, 'host', host, 'token', token)
  redis.call('PEXPIRE', key, ttl)
end

-- The assigned lease as a reply, removed as it is read (taken once); nil when there is none.
local function takeAssigned(key)
  local f = redis.call('HMGET', key, 'slotId', 'ip', 'port', 'host', 'token')
  if not f[1] then return nil end
  redis.call('DEL', key)
  return leaseReply(f[1], f[2], f[3], f[4], f[5])
end
