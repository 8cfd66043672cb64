-- The items of a pool by name, free and held (lapsed leases as they are stored).
-- KEYS[1] the pool's base
-- Returns: { {item, holder or nil, token or nil, expires_at or nil}, ... }
-- @include lib
local base = KEYS[1]
local out = {}
for _, item in ipairs(redis.call('ZRANGE', base .. 'items', 0, -1)) do
  local f = redis.call('HMGET', base .. 'item:' .. item, 'h', 'tk', 'x')
  out[#out + 1] = { item, f[1], f[2], f[3] }
end
return out
