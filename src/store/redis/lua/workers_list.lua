-- The workers whose heartbeat has not expired (expiry >= now), in one snapshot of both keys.
-- KEYS[1] the worker registry's base `<prefix>:{workers}:`
-- ARGV[1] now ('' for the store's clock)
-- Returns: { WorkerInfo JSON, ... } in no set order (the adapter sorts by id)
-- @include lib
local base = KEYS[1]
local alive = redis.call('ZRANGEBYSCORE', base .. 'expiry', clock(ARGV[1]), '+inf')
if #alive == 0 then return {} end
local out = {}
for _, info in ipairs(redis.call('HMGET', base .. 'info', unpack(alive))) do
  if info then out[#out + 1] = info end
end
return out
