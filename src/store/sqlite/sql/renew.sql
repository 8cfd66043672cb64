-- Extend a lease, only for the current delivery (fenced by token).
-- Params: $id, $token, $leaseUntil
UPDATE conveyor_jobs SET lease_expires_at = $leaseUntil
WHERE id = $id AND token = $token AND state = 'STARTED'
