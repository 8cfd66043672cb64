-- Record a running delivery's progress, fenced by the job's current token like a settlement.
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] id, ARGV[3] token, ARGV[4] fraction (0 to 1, as JSON number text),
-- ARGV[5] info JSON ('' for null)
-- Returns: code OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING (each STALE counts
-- stale_writes_refused_total)
-- @include lib
local base = KEYS[1]
local key = base .. 'job:' .. ARGV[2]
local refused = fence_counted(base, key, ARGV[3])
if refused then return refused end
redis.call('HSET', key, 'pg', clock(ARGV[1]) .. ':' .. ARGV[4] .. ':' .. ARGV[5])
return 'OK'
