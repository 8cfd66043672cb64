-- Drop the waiting (PENDING and RETRY) jobs of a queue.
-- KEYS[1] the queue's base
-- Returns: how many were deleted
-- @include lib
local base = KEYS[1]
local n = 0
for _, member in ipairs(redis.call('ZRANGE', base .. 'ready', 0, -1)) do
  local key = base .. 'job:' .. string.sub(member, 33)
  count(base, redis.call('HGET', key, 's'), nil)
  redis.call('DEL', key)
  n = n + 1
end
for _, id in ipairs(redis.call('ZRANGE', base .. 'scheduled', 0, -1)) do
  local key = base .. 'job:' .. id
  count(base, redis.call('HGET', key, 's'), nil)
  redis.call('DEL', key)
  n = n + 1
end
redis.call('DEL', base .. 'ready', base .. 'scheduled')
flush_counts(base)
return n
