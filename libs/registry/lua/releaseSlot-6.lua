--[[
  A worker has a fresh sandbox ready on a slot: the slot goes to the oldest waiting request, or
  to the end of the idle list. Used after every job (with the job's token) and after a first
  boot (no token).

  KEYS[1] slot   KEYS[2] idle   KEYS[3] leases   KEYS[4] host running   KEYS[5] waiters
  KEYS[6] the slot's job
  ARGV[1] slot id   ARGV[2] token of the job that just ended, or ''   ARGV[3] now (ms)
  ARGV[4] pid of the fresh sandbox   ARGV[5] worker port
  ARGV[6] slot key prefix   ARGV[7] ticket key prefix   ARGV[8] assigned key prefix
  ARGV[9] router channel prefix

  Returns IDLE, ASSIGNED or ALREADY_IDLE; NO_SLOT; NOT_HOLDER busy under another token.
]]
--- @include "dispatch"
local f = redis.call('HMGET', KEYS[1], 'state', 'token')
if not f[1] then return REPLY.NO_SLOT end
if f[1] == 'busy' and f[2] ~= ARGV[2] then return REPLY.NOT_HOLDER end
redis.call('HSET', KEYS[1], 'pid', ARGV[4], 'port', ARGV[5], 'killReason', '')
if f[1] == 'idle' then return REPLY.ALREADY_IDLE end
local Q = { idle = KEYS[2], leases = KEYS[3], waiters = KEYS[5], slotPrefix = ARGV[6], ticketPrefix = ARGV[7],
  assignedPrefix = ARGV[8], routerPrefix = ARGV[9], now = tonumber(ARGV[3]) }
redis.call('ZREM', Q.leases, ARGV[1])
dropJob(KEYS[4], KEYS[6], ARGV[1])
return makeIdle(Q, ARGV[1])
