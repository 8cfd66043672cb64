-- Extend leases of one queue's jobs, each fenced by its token.
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] lease ms, then 2 per lease: id, token
-- Returns: one code per lease: OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING
-- (each STALE counts stale_writes_refused_total)
-- @include lib
local base = KEYS[1]
local lease_until = clock(ARGV[1]) + tonumber(ARGV[2])
local out = {}
local stale = 0
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local key = base .. 'job:' .. id
  local refused = fence(key, token)
  if refused then
    out[#out + 1] = refused
    if refused == 'STALE' then stale = stale + 1 end
  else
    redis.call('HSET', key, 'l', lease_until)
    zadd(base .. 'leased', lease_until, id)
    out[#out + 1] = 'OK'
  end
end
flush_sets()
bump(base, 'stale_writes_refused_total', stale)
return out
