-- Put a FAILURE or REVOKED job back in line with a fresh retry budget (the dead-letter retry).
-- Params: $id, $now
UPDATE conveyor_jobs
SET state = 'PENDING', attempt = 1, deliveries = 0, run_at = $now, finished_at = NULL, error = NULL,
    result = NULL, keep_until = NULL, terminate = 0, expires_at = NULL
WHERE id = $id AND state IN ('FAILURE', 'REVOKED')
