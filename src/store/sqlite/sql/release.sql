-- Give a job back unfinished (graceful shutdown): the delivery does not count (fenced by token).
-- Params: $id, $token
UPDATE conveyor_jobs
SET state = 'PENDING', deliveries = deliveries - 1, lease_expires_at = NULL
WHERE id = $id AND token = $token AND state = 'STARTED'
