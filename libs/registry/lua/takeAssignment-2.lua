--[[
  A router collects the slot assigned to one of its tickets (after "assigned <ticket>", or when
  checking on a ticket it has heard nothing about).

  KEYS[1] the ticket's assigned key   KEYS[2] tickets
  ARGV[1] ticket

  Returns {'claimed', slot, ip, port, host, token}; {'queued'} while it waits; {'lost'} when Redis
  no longer knows the ticket (it restarted without its data): the router queues it again.
]]
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('DEL', KEYS[1])
  local id, ip, port, host, token = string.match(value, '^(%S+) (%S+) (%S+) (%S+) (%S+)$')
  return {'claimed', id, ip, port, host, token}
end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return {'queued'} end
return {'lost'}
