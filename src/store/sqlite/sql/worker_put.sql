-- Register or refresh a worker.
-- Params: $id, $info (JSON WorkerInfo), $expiresAt
INSERT INTO conveyor_workers (id, info, expires_at) VALUES ($id, $info, $expiresAt)
ON CONFLICT (id) DO UPDATE SET info = excluded.info, expires_at = excluded.expires_at
