-- Drop finished jobs whose result TTL has passed, with their steps and the idempotency key they
-- hold (at most 1000 a call; the adapter loops).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock)
-- Returns: how many were deleted
-- @include lib
local base = KEYS[1]
local ids = redis.call('ZRANGEBYSCORE', base .. 'kept', '-inf', '(' .. clock(ARGV[1]), 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do drop_job(base, id) end
if #ids > 0 then redis.call('ZREM', base .. 'kept', unpack(ids)) end
flush_counts(base)
return #ids
