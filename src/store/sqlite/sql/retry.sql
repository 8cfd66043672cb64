-- Schedule the next attempt (fenced by token).
-- Params: $id, $token, $error, $runAt
UPDATE conveyor_jobs
SET state = 'RETRY', error = $error, run_at = $runAt, attempt = attempt + 1, deliveries = 0, lease_expires_at = NULL
WHERE id = $id AND token = $token AND state = 'STARTED'
