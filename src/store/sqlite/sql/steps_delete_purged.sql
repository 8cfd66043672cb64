-- Drop the steps of a queue's waiting jobs (before the jobs themselves are purged).
-- Params: $queue
DELETE FROM conveyor_steps WHERE job_id IN
  (SELECT id FROM conveyor_jobs WHERE queue = $queue AND state IN ('PENDING', 'RETRY'))
