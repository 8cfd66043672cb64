-- Drop finished jobs whose result TTL has passed.
-- Params: $now
DELETE FROM conveyor_jobs WHERE keep_until IS NOT NULL AND keep_until < $now
