-- Record a delivery's result (fenced by token).
-- Answers the job and whether it has no callbacks, chord nor followers (quiet), so most jobs skip finish().
-- Params: $id, $token, $result, $now, $keepUntil
UPDATE conveyor_jobs
SET state = 'SUCCESS', result = $result, error = NULL, finished_at = $now, lease_expires_at = NULL, keep_until = $keepUntil
WHERE id = $id AND token = $token AND state = 'STARTED'
RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet
