--[[
  A router withdraws a ticket (its deadline passed, its client went away, it is shutting down).
  If a slot was assigned meanwhile, the assignment is returned so that the router can use it
  or give it back (releaseClaim); it is never left claimed for nobody.

  KEYS[1] waiters   KEYS[2] the ticket   KEYS[3] the ticket's assigned lease
  ARGV[1] ticket

  Returns the lease {CLAIMED, field, value, …} or {CANCELLED}.
]]
--- @include "assignment"
redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('DEL', KEYS[2])
return takeAssigned(KEYS[3]) or {REPLY.CANCELLED}
