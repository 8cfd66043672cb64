-- Put a job with a lapsed lease back in line for another delivery.
-- Params: $seq
UPDATE conveyor_jobs
SET state = 'PENDING', lease_expires_at = NULL
WHERE seq = $seq
