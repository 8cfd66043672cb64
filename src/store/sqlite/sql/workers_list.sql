-- The workers whose last heartbeat has not expired, by id.
-- Params: $now
SELECT info FROM conveyor_workers WHERE expires_at >= $now ORDER BY id
