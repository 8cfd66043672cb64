-- Add to an exactly-once counter.
-- Params: $name, $n
INSERT INTO conveyor_counters (name, value) VALUES ($name, $n)
ON CONFLICT (name) DO UPDATE SET value = value + excluded.value
