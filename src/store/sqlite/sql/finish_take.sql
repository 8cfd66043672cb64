-- Mark a final job's callbacks as fired, answering what they were (once: `fired` was 0).
-- Params: $id
UPDATE conveyor_jobs SET fired = 1
WHERE id = $id AND fired = 0
RETURNING task, state, result, error, callbacks, chord
