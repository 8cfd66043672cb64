-- Drop finished jobs whose result TTL has passed (at most 1000 a call; the adapter loops).
-- KEYS[1] the queue's base
-- ARGV[1] now
-- Returns: how many were deleted
-- @include lib
local base = KEYS[1]
local ids = redis.call('ZRANGEBYSCORE', base .. 'kept', '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
for _, id in ipairs(ids) do
  local key = base .. 'job:' .. id
  count(base, redis.call('HGET', key, 's'), nil)
  redis.call('DEL', key)
end
if #ids > 0 then redis.call('ZREM', base .. 'kept', unpack(ids)) end
flush_counts(base)
return #ids
