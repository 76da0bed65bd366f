--[[
  Makes the registry's inventory of one host's slots exactly the given list (netprov).
  New slots start "dead" (no sandbox yet) until a worker boots one; a slot whose address
  changed becomes "dead" again; slots not in the list are removed.

  KEYS[1] slots           SET of every slot id
  KEYS[2] host slots      SET of this host's slot ids
  KEYS[3] leases          ZSET slot id -> lease expiry (ms)
  KEYS[4] host running    SET of this host's slot ids running a job
  KEYS[5] idle            LIST of idle slot ids
  ARGV[1] slot key prefix   ARGV[2] host   ARGV[3] backend   ARGV[4] now (ms)   ARGV[5] events channel
  ARGV[6] job key prefix
  ARGV[7..] triples: slot id, ip, network namespace path ('' when none)

  Returns {OK, added, removed, changed}.
]]
--- @include "jobs"
local prefix, host, backend, now, channel, jobPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local wanted = {}
local added, removed, changed = 0, 0, 0

local function outOfService(id)
  redis.call('ZREM', KEYS[3], id)
  dropJob(KEYS[4], jobPrefix .. id, id)
  redis.call('LREM', KEYS[5], 0, id)
end

for i = 7, #ARGV, 3 do
  local id, ip, netns = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  wanted[id] = true
  local key = prefix .. id
  local current = redis.call('HMGET', key, 'ip', 'backend', 'netns')
  if not current[1] then
    redis.call('HSET', key, 'id', id, 'host', host, 'ip', ip, 'backend', backend, 'netns', netns, 'state', 'dead',
      'port', '', 'pid', '', 'token', '', 'phase', '', 'killReason', '', 'updatedAt', now)
    redis.call('SADD', KEYS[1], id)
    redis.call('SADD', KEYS[2], id)
    added = added + 1
  elseif current[1] ~= ip or current[2] ~= backend or (current[3] or '') ~= netns then
    redis.call('HSET', key, 'ip', ip, 'backend', backend, 'netns', netns, 'state', 'dead', 'token', '', 'phase', '', 'updatedAt', now)
    outOfService(id)
    changed = changed + 1
  end
end

for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if not wanted[id] then
    redis.call('DEL', prefix .. id)
    redis.call('SREM', KEYS[1], id)
    redis.call('SREM', KEYS[2], id)
    outOfService(id)
    removed = removed + 1
  end
end

if added + removed + changed > 0 then
  publish(channel, 'inventory ' .. host)
end
return {REPLY.OK, added, removed, changed}
