--[[
  The jobs running on one host, read in one round trip (the watchdog reads them at every
  "running" event).

  KEYS[1] host running    SET of the host's slot ids running a job
  ARGV[1] job key prefix

  Returns {OK, {field, value, …}, …}: each job's HASH as field/value pairs (empty when it is gone).
]]
local jobs = {REPLY.OK}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  jobs[#jobs + 1] = redis.call('HGETALL', ARGV[1] .. id)
end
return jobs
