-- Put a FAILURE or REVOKED job back in line with a fresh retry budget (the dead-letter retry),
-- with its args (a chord's callback gets its members' results prepended).
-- Params: $id, $now, $args
UPDATE conveyor_jobs
SET state = 'PENDING', attempt = 1, deliveries = 0, run_at = $now, finished_at = NULL, error = NULL,
    result = NULL, keep_until = NULL, terminate = 0, expires_at = NULL, args = $args
WHERE id = $id AND state IN ('FAILURE', 'REVOKED')
