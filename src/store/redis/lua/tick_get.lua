-- The last tick a schedule fired.
-- KEYS[1] the schedule ticks' base `<prefix>:{beat}:`
-- ARGV[1] schedule name
-- Returns: the tick (epoch ms, as text), or false (nil) when it never fired
return redis.call('HGET', KEYS[1] .. 'ticks', ARGV[1])
