-- Forget workers whose heartbeat expired (lazily, at another worker's heartbeat).
-- Params: $now
DELETE FROM conveyor_workers WHERE expires_at < $now
