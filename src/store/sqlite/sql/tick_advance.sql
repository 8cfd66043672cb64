-- Record a schedule's tick if it is later than the recorded one (changes = 0 otherwise).
-- Params: $schedule, $tick
INSERT INTO conveyor_schedule_ticks (schedule, tick) VALUES ($schedule, $tick)
ON CONFLICT (schedule) DO UPDATE SET tick = excluded.tick WHERE excluded.tick > tick
