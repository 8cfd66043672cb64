-- The latest job enqueued with an idempotency key, to decide whether the key is still held.
-- Params: $key
SELECT id, state, finished_at, idem_ttl, keep_until FROM conveyor_jobs
WHERE idem_key = $key ORDER BY seq DESC LIMIT 1
