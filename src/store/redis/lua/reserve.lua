-- Lease up to `limit` due jobs of one queue: priority, then run time, then FIFO. Due jobs past
-- their expiry become REVOKED instead (and fire their callbacks).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] worker id, ARGV[3] limit, ARGV[4] lease ms,
-- ARGV[5] revoked TTL ms, ARGV[6] key prefix, ARGV[7] the id registry's key ('' under Cluster)
-- Returns: { {{id, task, args, attempt, deliveries, token, enqueued_at, parent JSON or nil}, ...},
-- deliveries left in the outbox, now (the leases run to now + lease ms) }
-- @include lib
set_store(ARGV[6], ARGV[7])
local now = clock(ARGV[1])
local jobs = take(KEYS[1], now, ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
flush_sets()
flush_counts()
return { jobs, outboxed, now }
