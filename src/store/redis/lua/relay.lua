-- Apply deliveries (callbacks, chord marks) that another queue's transition left in its outbox,
-- bound for this queue. Idempotent: a delivery applied twice (two relayers raced) creates
-- nothing and counts nothing the second time. The adapter LREMs each from its outbox after.
-- KEYS[1] the base of the queue the deliveries are bound for
-- ARGV[1] now ('' for the store's clock), ARGV[2] key prefix, ARGV[3] the id registry's key ('' under
-- Cluster: the adapter claimed the ids of the callbacks first), then one delivery (wire JSON, see
-- lib.lua) per argument
-- Returns: deliveries this left in this queue's own outbox (a chord callback recorded as
-- FAILURE fires its own callbacks, which may be bound elsewhere)
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
set_store(ARGV[2], ARGV[3])
-- Decode every delivery before applying any (a failure after a write would leave it behind).
local deliveries = {}
for i = 4, #ARGV do deliveries[#deliveries + 1] = cjson.decode(ARGV[i]) end
for _, d in ipairs(deliveries) do apply(base, d, now) end
flush_counts()
return outboxed
