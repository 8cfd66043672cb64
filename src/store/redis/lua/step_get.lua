-- Read a recorded step of a job, fenced by the job's current token like a settlement.
-- KEYS[1] the queue's base
-- ARGV[1] id, ARGV[2] token, ARGV[3] step name
-- Returns: { code: OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING, result JSON or nil }
-- (a recorded step counts steps_replayed_total; a STALE refusal counts stale_writes_refused_total)
-- @include lib
local base = KEYS[1]
local refused = fence_counted(base, base .. 'job:' .. ARGV[1], ARGV[2])
if refused then return { refused } end
local value = redis.call('HGET', base .. 'steps:' .. ARGV[1], ARGV[3])
if not value then return { 'OK' } end
bump(base, 'steps_replayed_total', 1)
return { 'OK', step_result(value) }
