-- Register or refresh a worker; forget those whose heartbeat expired.
-- KEYS[1] the worker registry's base `<prefix>:{workers}:`
-- ARGV[1] now, ARGV[2] worker id, ARGV[3] its WorkerInfo JSON (lastSeenAt = now), ARGV[4] ttl ms
-- Returns: 'OK'
local base = KEYS[1]
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', base .. 'expiry', '-inf', '(' .. ARGV[1], 'LIMIT', 0, 1000)
if #expired > 0 then
  redis.call('HDEL', base .. 'info', unpack(expired))
  redis.call('ZREM', base .. 'expiry', unpack(expired))
end
redis.call('HSET', base .. 'info', ARGV[2], ARGV[3])
redis.call('ZADD', base .. 'expiry', now + tonumber(ARGV[4]), ARGV[2])
return 'OK'
