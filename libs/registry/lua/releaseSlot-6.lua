--[[
  A worker has a fresh sandbox ready on a slot: the slot goes to the oldest waiting request, or
  to the end of the idle list. Used after every job (with the job's token) and after a first
  boot (no token).

  KEYS[1] slot   KEYS[2] idle   KEYS[3] leases   KEYS[4] host running   KEYS[5] waiters   KEYS[6] tickets
  ARGV[1] slot id   ARGV[2] token of the job that just ended, or ''   ARGV[3] now (ms)
  ARGV[4] pid of the fresh sandbox   ARGV[5] worker port
  ARGV[6] slot key prefix   ARGV[7] assigned key prefix   ARGV[8] router channel prefix

  Returns 1 idle, 2 handed to a waiting request, 0 already idle; -1 no such slot; -2 claimed by
  another token.
]]
--- @include "dispatch"
local f = redis.call('HMGET', KEYS[1], 'state', 'token')
if not f[1] then return -1 end
if f[1] == 'busy' and f[2] ~= ARGV[2] then return -2 end
redis.call('HSET', KEYS[1], 'pid', ARGV[4], 'port', ARGV[5], 'killReason', '')
if f[1] == 'idle' then return 0 end
local Q = { idle = KEYS[2], leases = KEYS[3], waiters = KEYS[5], tickets = KEYS[6],
  slotPrefix = ARGV[6], assignedPrefix = ARGV[7], routerPrefix = ARGV[8], now = tonumber(ARGV[3]) }
redis.call('ZREM', Q.leases, ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return makeIdle(Q, ARGV[1])
