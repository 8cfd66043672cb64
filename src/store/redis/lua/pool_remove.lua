-- Remove items from a pool: a free one at once, a held one when it is released (or reclaimed).
-- KEYS[1] the pool's base
-- ARGV[1..] the items
-- Returns: how many were in the pool (an item already marked to leave is not counted again)
-- @include lib
local base = KEYS[1]
local removed = 0
for i = 1, #ARGV do
  local item = ARGV[i]
  local key = base .. 'item:' .. item
  if redis.call('ZSCORE', base .. 'items', item) then
    if redis.call('EXISTS', key) == 0 then
      redis.call('ZREM', base .. 'items', item)
      redis.call('LREM', base .. 'free', 1, item)
      removed = removed + 1
    elseif redis.call('HSETNX', key, 'rm', 1) == 1 then
      removed = removed + 1
    end
  end
end
return removed
