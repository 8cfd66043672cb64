-- Revoke a due job that would start after its expiry.
-- Answers the job and whether it has no callbacks, chord nor followers (quiet), so most jobs skip finish().
-- Params: $seq, $now, $error, $keepUntil
UPDATE conveyor_jobs
SET state = 'REVOKED', error = $error, finished_at = $now, keep_until = $keepUntil
WHERE seq = $seq
RETURNING id, (callbacks IS NULL AND chord IS NULL AND followers IS NULL) AS quiet
