-- Record a delivery's result (fenced by token).
-- Params: $id, $token, $result, $now, $keepUntil
UPDATE conveyor_jobs
SET state = 'SUCCESS', result = $result, error = NULL, finished_at = $now, lease_expires_at = NULL, keep_until = $keepUntil
WHERE id = $id AND token = $token AND state = 'STARTED'
