-- Fail a job whose deliveries ran out (WorkerLostError).
-- Params: $seq, $error, $now
UPDATE conveyor_jobs
SET state = 'FAILURE', error = $error, finished_at = $now, lease_expires_at = NULL
WHERE seq = $seq
