-- Drop finished jobs whose result TTL has passed, with their steps and the idempotency key they
-- hold and their ids in the registry (at most 1000 a call; the adapter loops).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] key prefix, ARGV[3] the id registry's key ('' under Cluster)
-- Returns: { how many were deleted, deliveries left in the outbox (Cluster: their ids to unclaim) }
-- @include lib
local base = KEYS[1]
set_store(ARGV[2], ARGV[3])
local expired = redis.call('ZRANGEBYSCORE', base .. 'kept', '-inf', '(' .. clock(ARGV[1]), 'LIMIT', 0, 1000)
for _, id in ipairs(expired) do drop_job(base, id) end
if #expired > 0 then redis.call('ZREM', base .. 'kept', unpack(expired)) end
flush_counts()
return { #expired, outboxed }
