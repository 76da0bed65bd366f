--[[
  The watchdog's view of running jobs: per host a SET of slot ids, per slot a job HASH with the
  fields of RunningSandbox. The two change together, here only.
]]

-- Lists the job of slot `id` on its host, replacing whatever was listed (fields: a flat list of pairs).
local function writeJob(runningKey, jobKey, id, fields)
  redis.call('DEL', jobKey)
  redis.call('HSET', jobKey, unpack(fields))
  redis.call('SADD', runningKey, id)
end

local function dropJob(runningKey, jobKey, id)
  redis.call('SREM', runningKey, id)
  redis.call('DEL', jobKey)
end
