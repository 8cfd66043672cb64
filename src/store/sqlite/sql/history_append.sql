-- Record the current delivery in the job's history, before a transition that ends the delivery
-- without ending the job (retry, lost lease, release). Fenced like the transition, so a refused
-- one appends nothing. Keeps the last 50 entries (one in, the oldest out).
-- Params: $id, $token, $now, $outcome ('retry' | 'lost' | 'released'), $error (JSON ErrorInfo or NULL)
UPDATE conveyor_jobs
SET history = json_insert(
  CASE WHEN history IS NULL THEN '[]' WHEN json_array_length(history) >= 50 THEN json_remove(history, '$[0]') ELSE history END,
  '$[#]',
  json_object('token', token, 'attempt', attempt, 'worker', worker, 'startedAt', started_at, 'endedAt', $now,
              'outcome', $outcome, 'error', json($error)))
WHERE id = $id AND token = $token AND state = 'STARTED'
