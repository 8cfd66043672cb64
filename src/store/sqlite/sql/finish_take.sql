-- Mark a final job's callbacks as fired, answering what they were (once: `fired` was 0), and its
-- followers (fired every time, then cleared with followers_set).
-- Params: $id
UPDATE conveyor_jobs SET fired = 1
WHERE id = $id AND fired = 0
RETURNING task, state, result, error, callbacks, chord, followers
