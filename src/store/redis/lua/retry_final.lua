-- Put a FAILURE or REVOKED job back in line with a fresh retry budget (the dead-letter retry).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] id, ARGV[3] wake channel
-- Returns: RETRIED | NOT_FINAL | MISSING
-- @include lib
local base = KEYS[1]
local id = ARGV[2]
local key = base .. 'job:' .. id
local f = redis.call('HMGET', key, 's', 'p', 'sq')
local state = f[1]
if not state then return 'MISSING' end
if state ~= 'FAILURE' and state ~= 'REVOKED' then return 'NOT_FINAL' end
redis.call('ZREM', base .. 'failed', id)
redis.call('ZREM', base .. 'kept', id)
redis.call('HDEL', key, 'f', 'err', 'res', 'ku', 'tm', 'x')
local now = clock(ARGV[1])
redis.call('HSET', key, 's', 'PENDING', 'at', 1, 'd', 0, 'r', now)
enqueue_waiting(base, id, f[2], now, f[3], now)
count(base, state, 'PENDING')
redis.call('PUBLISH', ARGV[3], 'retried')
flush_counts(base)
return 'RETRIED'
