-- Record a step; the first record wins.
-- Params: $id, $name, $result, $token, $now
INSERT INTO conveyor_steps (job_id, name, result, token, recorded_at) VALUES ($id, $name, $result, $token, $now)
ON CONFLICT (job_id, name) DO NOTHING
