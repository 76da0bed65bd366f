--[[
  A router withdraws a ticket (its deadline passed, its client went away, it is shutting down).
  If a slot was assigned meanwhile, the assignment is returned so that the router can use it
  or give it back (releaseClaim); it is never left claimed for nobody.

  KEYS[1] waiters   KEYS[2] tickets   KEYS[3] the ticket's assigned key
  ARGV[1] ticket

  Returns {'claimed', slot, ip, port, host, token} or {'cancelled'}.
]]
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local value = redis.call('GET', KEYS[3])
if value then
  redis.call('DEL', KEYS[3])
  local id, ip, port, host, token = string.match(value, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  return {'claimed', id, ip, port, host, token}
end
return {'cancelled'}
