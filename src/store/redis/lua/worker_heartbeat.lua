-- Register or refresh a worker; forget those whose heartbeat expired.
-- KEYS[1] the worker registry's base `<prefix>:{workers}:`
-- ARGV[1] now ('' for the store's clock), ARGV[2] worker id, ARGV[3] its WorkerInfo JSON without
-- lastSeenAt (an object, the script appends "lastSeenAt": now), ARGV[4] ttl ms
-- Returns: 'OK'
-- @include lib
local base = KEYS[1]
local info = ARGV[3]
if string.sub(info, -1) ~= '}' then return redis.error_reply('CONVEYOR_BAD_INPUT worker info must be a JSON object') end
local now = clock(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', base .. 'expiry', '-inf', '(' .. now, 'LIMIT', 0, 1000)
if #expired > 0 then
  redis.call('HDEL', base .. 'info', unpack(expired))
  redis.call('ZREM', base .. 'expiry', unpack(expired))
end
redis.call('HSET', base .. 'info', ARGV[2], string.sub(info, 1, -2) .. ',"lastSeenAt":' .. now .. '}')
redis.call('ZADD', base .. 'expiry', now + tonumber(ARGV[4]), ARGV[2])
return 'OK'
