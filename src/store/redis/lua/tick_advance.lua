-- Record that a schedule's tick fired, only if later than the recorded one (compare-and-set max),
-- so two beats racing for one tick fire it once.
-- KEYS[1] the schedule ticks' base `<prefix>:{beat}:`
-- ARGV[1] schedule name, ARGV[2] tick (epoch ms)
-- Returns: 1 when the tick moved forward, else 0
local current = redis.call('HGET', KEYS[1] .. 'ticks', ARGV[1])
if current and tonumber(current) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1] .. 'ticks', ARGV[1], ARGV[2])
return 1
