-- Cancel a job that is not final; a running one loses its lease at once.
-- Answers the job and whether it has no callbacks, chord nor followers (quiet), so most jobs skip finish().
-- Params: $id, $terminate, $error, $now, $keepUntil
UPDATE conveyor_jobs
SET state = 'REVOKED', terminate = $terminate, error = $error, finished_at = $now, lease_expires_at = NULL, keep_until = $keepUntil
WHERE id = $id AND state IN ('PENDING', 'RETRY', 'STARTED')
RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet
