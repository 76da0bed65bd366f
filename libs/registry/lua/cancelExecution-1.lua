--[[
  A client cancels an execution kept in the background. A queued one is cancelled at once (it
  will never be handed over: handOverExecution refuses it; a router waiting for a slot for it is
  told to stop); a running one is marked, and its runner, told on the cancel channel, stops it
  and records it cancelled.

  KEYS[1] the execution's record   HASH
  ARGV[1] now (ISO time)   ARGV[2] how long the record is kept from now (ms)
  ARGV[3] the cancel channel   ARGV[4] the execution id

  Returns CANCELLED it was queued and is cancelled; CANCEL_REQUESTED it runs and is told to stop;
  {FINAL, state} it had ended already; NO_RECORD no such execution.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return REPLY.NO_RECORD end
if state == 'done' or state == 'cancelled' then return {REPLY.FINAL, state} end
if state == 'queued' then
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'finishedAt', ARGV[1], 'cancelRequested', '1')
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  publish(ARGV[3], 'cancel ' .. ARGV[4])
  return REPLY.CANCELLED
end
redis.call('HSET', KEYS[1], 'cancelRequested', '1')
publish(ARGV[3], 'cancel ' .. ARGV[4])
return REPLY.CANCEL_REQUESTED
