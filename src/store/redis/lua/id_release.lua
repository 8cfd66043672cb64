-- Release ids from one bucket of the id registry (Redis Cluster only), each only if the queue
-- named still holds it: the job was deleted, or a claim made for a job that was not created.
-- KEYS[1] the bucket's base `<prefix>:{ids:<n>}:`
-- ARGV: 2 per id: id, queue
-- Returns: how many were released
local base = KEYS[1]
local released = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', base .. 'ids', ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', base .. 'ids', ARGV[i])
    released = released + 1
  end
end
return released
