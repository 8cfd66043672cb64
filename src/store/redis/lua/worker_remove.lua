-- Forget a worker (it shut down).
-- KEYS[1] the worker registry's base `<prefix>:{workers}:`
-- ARGV[1] worker id
-- Returns: 1 if it was registered, else 0
local removed = redis.call('HDEL', KEYS[1] .. 'info', ARGV[1])
redis.call('ZREM', KEYS[1] .. 'expiry', ARGV[1])
return removed
