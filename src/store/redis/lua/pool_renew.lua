-- Extend a held item's lease, fenced by its token (a lapsed lease not yet reclaimed still renews,
-- as a job's does).
-- KEYS[1] the pool's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] item, ARGV[3] token, ARGV[4] ttl ms
-- Returns: { OK, the new expires_at } | { NOT_HELD }
-- @include lib
local base = KEYS[1]
local key = base .. 'item:' .. ARGV[2]
if redis.call('HGET', key, 'tk') ~= ARGV[3] then return { 'NOT_HELD' } end
local expires = clock(ARGV[1]) + tonumber(ARGV[4])
redis.call('HSET', key, 'x', expires)
redis.call('ZADD', base .. 'held', expires, ARGV[2])
return { 'OK', expires }
