-- Give a held item back (fenced by its token); an item removed while held leaves the pool.
-- KEYS[1] the pool's base
-- ARGV[1] settled channel, ARGV[2] item, ARGV[3] token
-- Returns: RELEASED | NOT_HELD (nothing changed; counts double_release_total)
-- @include lib
local base = KEYS[1]
local item = ARGV[2]
local key = base .. 'item:' .. item
local f = redis.call('HMGET', key, 'tk', 'rm')
if f[1] ~= ARGV[3] then
  bump(base, 'double_release_total', 1)
  return 'NOT_HELD'
end
if f[2] then
  redis.call('ZREM', base .. 'items', item)
else
  redis.call('RPUSH', base .. 'free', item)
end
redis.call('DEL', key)
redis.call('ZREM', base .. 'held', item)
redis.call('PUBLISH', ARGV[1], 'pool')
return 'RELEASED'
