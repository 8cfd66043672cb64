-- Revoke a due job that would start after its expiry.
-- Params: $seq, $now, $error, $keepUntil
UPDATE conveyor_jobs
SET state = 'REVOKED', error = $error, finished_at = $now, keep_until = $keepUntil
WHERE seq = $seq
