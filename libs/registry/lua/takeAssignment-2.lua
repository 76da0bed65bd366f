--[[
  A router collects the slot assigned to one of its tickets (after "assigned <ticket>", or when
  checking on a ticket it has heard nothing about).

  KEYS[1] the ticket's assigned lease   KEYS[2] the ticket

  Returns the lease {CLAIMED, field, value, …}; {QUEUED} while it waits; {TICKET_LOST} when Redis
  no longer knows the ticket (it restarted without its data): the router queues it again.
]]
--- @include "assignment"
local lease = takeAssigned(KEYS[1])
if lease then return lease end
if redis.call('EXISTS', KEYS[2]) == 1 then return {REPLY.QUEUED} end
return {REPLY.TICKET_LOST}
