-- Insert one job; an id already stored is left as it is (the caller learns created:false).
-- Runs inside the caller's transaction (a batch is all or none).
-- Params: $id, $task, $queue, $args, $priority, $runAt, $expiresAt, $now, $maxDeliveries
INSERT INTO conveyor_jobs (id, task, queue, state, args, priority, run_at, expires_at, enqueued_at, max_deliveries)
VALUES ($id, $task, $queue, 'PENDING', $args, $priority, $runAt, $expiresAt, $now, $maxDeliveries)
ON CONFLICT (id) DO NOTHING
