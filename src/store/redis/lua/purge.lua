-- Drop the waiting (PENDING and RETRY) jobs of a queue, with their steps (no callbacks fire).
-- KEYS[1] the queue's base
-- ARGV[1] key prefix, ARGV[2] the id registry's key ('' under Cluster)
-- Returns: { how many were deleted, deliveries left in the outbox (Cluster: their ids to unclaim) }
-- @include lib
local base = KEYS[1]
set_store(ARGV[1], ARGV[2])
local n = 0
for _, member in ipairs(redis.call('ZRANGE', base .. 'ready', 0, -1)) do
  drop_job(base, string.sub(member, 33))
  n = n + 1
end
for _, id in ipairs(redis.call('ZRANGE', base .. 'scheduled', 0, -1)) do
  drop_job(base, id)
  n = n + 1
end
redis.call('DEL', base .. 'ready', base .. 'scheduled')
flush_counts()
return { n, outboxed }
