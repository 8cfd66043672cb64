-- Fail a job whose deliveries ran out (WorkerLostError).
-- Answers the job and whether it has no callbacks, chord nor followers (quiet), so most jobs skip finish().
-- Params: $seq, $error, $now
UPDATE conveyor_jobs
SET state = 'FAILURE', error = $error, finished_at = $now, lease_expires_at = NULL
WHERE seq = $seq
RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet
