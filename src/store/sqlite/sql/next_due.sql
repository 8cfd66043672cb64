-- When the next scheduled job of a queue comes due (to end an idle wait then).
-- Params: $queue
SELECT MIN(run_at) AS at FROM conveyor_jobs WHERE queue = $queue AND state IN ('PENDING', 'RETRY')
