-- Lease up to `limit` due jobs of one queue: priority, then run time, then FIFO.
-- KEYS[1] the queue's base
-- ARGV[1] now, ARGV[2] worker id, ARGV[3] limit, ARGV[4] lease ms, ARGV[5] revoked TTL ms
-- Returns: { {id, task, args, attempt, deliveries, token, enqueued_at}, ... }
-- @include lib
local jobs = take(KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
flush_sets()
flush_counts(KEYS[1])
return jobs
