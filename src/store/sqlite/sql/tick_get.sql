-- The last tick a schedule fired.
-- Params: $schedule
SELECT tick FROM conveyor_schedule_ticks WHERE schedule = $schedule
