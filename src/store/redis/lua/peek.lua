-- The next due jobs of one queue, in reservation order, without taking them (for a reserve across
-- queues, which Redis Cluster cannot do in one script: the adapter merges the queues' heads, then
-- takes from each queue its share with reserve.lua).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] how many
-- Returns: { member, score, member, score, ... } of the ready set (score -priority)
-- @include lib
promote(KEYS[1], clock(ARGV[1]))
return redis.call('ZRANGE', KEYS[1] .. 'ready', 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
