-- Extend leases of one queue's jobs, each fenced by its token.
-- KEYS[1] the queue's base
-- ARGV[1] lease_until (epoch ms), then 2 per lease: id, token
-- Returns: one code per lease: OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING
-- @include lib
local base = KEYS[1]
local out = {}
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = base .. 'job:' .. id
  local refused = fence(key, token)
  if refused then
    out[#out + 1] = refused
  else
    redis.call('HSET', key, 'l', ARGV[1])
    zadd(base .. 'leased', ARGV[1], id)
    out[#out + 1] = 'OK'
  end
end
flush_sets()
return out
