-- Take a pool's item free longest, after returning items whose lease lapsed.
-- KEYS[1] the pool's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] holder, ARGV[3] ttl ms
-- Returns: { item, token, expires_at }, or nil when no item is free. The token is the pool's
-- counter + 1. Reclaimed items count pool_items_reclaimed_total.
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
pool_reclaim(base, now)
local item = redis.call('LPOP', base .. 'free')
if not item then return nil end
local token = redis.call('INCR', base .. 'token')
local expires = now + tonumber(ARGV[3])
redis.call('HSET', base .. 'item:' .. item, 'h', ARGV[2], 'tk', token, 'x', expires)
redis.call('ZADD', base .. 'held', expires, item)
return { item, token, expires }
