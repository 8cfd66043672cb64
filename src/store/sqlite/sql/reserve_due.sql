-- The due jobs of one queue in reservation order: priority, then run time, then FIFO.
-- Walks the partial index `conveyor_jobs_ready` in order, so no sort is needed.
-- Params: $queue, $now, $limit
SELECT seq, id, priority, run_at, expires_at FROM conveyor_jobs
WHERE queue = $queue AND state IN ('PENDING', 'RETRY') AND run_at <= $now
ORDER BY priority DESC, run_at, seq
LIMIT $limit
