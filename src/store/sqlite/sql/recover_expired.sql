-- Jobs whose lease has passed: their worker died, froze or lost its connection.
-- Params: $now
SELECT seq, id, token, deliveries, max_deliveries FROM conveyor_jobs
WHERE state = 'STARTED' AND lease_expires_at < $now
