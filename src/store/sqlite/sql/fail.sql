-- Fail a job for good (fenced by token). Kept with no TTL: the dead-letter view.
-- Answers the job and whether it has no callbacks, chord nor followers (quiet), so most jobs skip finish().
-- Params: $id, $token, $error, $now
UPDATE conveyor_jobs
SET state = 'FAILURE', error = $error, finished_at = $now, lease_expires_at = NULL
WHERE id = $id AND token = $token AND state = 'STARTED'
RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet
