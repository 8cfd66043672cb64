-- Drop the steps of finished jobs whose result TTL has passed (before the jobs themselves).
-- Params: $now
DELETE FROM conveyor_steps WHERE job_id IN
  (SELECT id FROM conveyor_jobs WHERE keep_until IS NOT NULL AND keep_until < $now)
