-- Drop the chord outcomes of a queue's waiting chord callbacks (before the jobs themselves are purged).
-- Params: $queue
DELETE FROM conveyor_chord_results WHERE chord_id IN
  (SELECT id FROM conveyor_jobs WHERE queue = $queue AND state IN ('PENDING', 'RETRY'))
