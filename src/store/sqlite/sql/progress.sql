-- Record a running delivery's progress (fenced by token).
-- Params: $id, $token, $progress (JSON JobProgress)
UPDATE conveyor_jobs SET progress = $progress
WHERE id = $id AND token = $token AND state = 'STARTED'
