-- Insert one job; an id already stored is left as it is (the caller learns created:false).
-- Runs inside the caller's transaction (a batch is all or none).
-- Params: $id, $task, $queue, $args, $priority, $runAt, $expiresAt, $now, $maxDeliveries,
--         $idemKey, $idemTtl, $callbacks, $chord, $parent, $state, $error, $finishedAt
INSERT INTO conveyor_jobs (id, task, queue, state, args, priority, run_at, expires_at, enqueued_at, max_deliveries,
                           idem_key, idem_ttl, callbacks, chord, parent, error, finished_at)
VALUES ($id, $task, $queue, $state, $args, $priority, $runAt, $expiresAt, $now, $maxDeliveries,
        $idemKey, $idemTtl, $callbacks, $chord, $parent, $error, $finishedAt)
ON CONFLICT (id) DO NOTHING
