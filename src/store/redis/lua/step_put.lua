-- Record a step's result, fenced by the job's current token; the first record wins.
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] id, ARGV[3] token, ARGV[4] step name, ARGV[5] result JSON
-- Returns: { code: OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING, the recorded
-- result JSON when OK } (each STALE counts stale_writes_refused_total)
-- @include lib
local base = KEYS[1]
local refused = fence_counted(base, base .. 'job:' .. ARGV[2], ARGV[3])
if refused then return { refused } end
local steps = base .. 'steps:' .. ARGV[2]
local value = redis.call('HGET', steps, ARGV[4])
if value then return { 'OK', step_result(value) } end
-- The order is the count so far: steps are only added (and deleted with their job).
local order = redis.call('HLEN', steps) + 1
redis.call('HSET', steps, ARGV[4], order .. ':' .. ARGV[3] .. ':' .. clock(ARGV[1]) .. ':' .. ARGV[5])
return { 'OK', ARGV[5] }
