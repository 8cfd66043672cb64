-- Drop the waiting jobs of a queue.
-- Params: $queue
DELETE FROM conveyor_jobs WHERE queue = $queue AND state IN ('PENDING', 'RETRY')
