-- The job an idempotency key was given to last, to decide whether the key is still held: the
-- job with it that is not final (at most one is), else the one that became final last.
-- Params: $key
SELECT id, state, finished_at, idem_ttl, keep_until FROM conveyor_jobs
WHERE idem_key = $key
ORDER BY state IN ('SUCCESS', 'FAILURE', 'REVOKED'), finished_at DESC, seq DESC
LIMIT 1
