--[[
  A router takes up an execution kept in the background (it was queued, or its last runner
  died): one attempt more. It stays queued until its job is handed over to a worker
  (handOverExecution), so that a cancel before then means it never runs.

  KEYS[1] the execution's record   HASH

  Returns {OK, attempts} take it up; FINAL it was cancelled or has ended; NO_RECORD Redis no
  longer knows it.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return REPLY.NO_RECORD end
if state == 'done' or state == 'cancelled' then return REPLY.FINAL end
return {REPLY.OK, redis.call('HINCRBY', KEYS[1], 'attempts', 1)}
