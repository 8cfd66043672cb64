-- Lease one job to a worker: a new delivery with the next fencing token (and no progress yet).
-- Params: $seq, $worker, $now, $leaseUntil
UPDATE conveyor_jobs
SET state = 'STARTED', token = token + 1, deliveries = deliveries + 1, worker = $worker,
    started_at = $now, lease_expires_at = $leaseUntil, terminate = 0, progress = NULL
WHERE seq = $seq
RETURNING id, task, queue, args, attempt, deliveries, token, enqueued_at, parent
