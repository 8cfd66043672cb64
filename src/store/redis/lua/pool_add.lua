-- Add items to a pool (created on first use). An item removed while held is kept after all.
-- KEYS[1] the pool's base, `<prefix>:{pool:<name>}:`
-- ARGV[1] settled channel, then the items
-- Returns: how many were new to the pool
-- @include lib
local base = KEYS[1]
local added = 0
for i = 2, #ARGV do
  local item = ARGV[i]
  if redis.call('ZADD', base .. 'items', 'NX', 0, item) == 1 then
    redis.call('RPUSH', base .. 'free', item)
    added = added + 1
  elseif redis.call('HDEL', base .. 'item:' .. item, 'rm') == 1 then
    added = added + 1
  end
end
-- Waiters on a pool wait on the settled channel (waitForChange without queues).
if added > 0 then redis.call('PUBLISH', ARGV[1], 'pool') end
return added
