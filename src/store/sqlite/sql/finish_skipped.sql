-- A job final again after its callbacks fired (a dead-letter retry): what it would have fired,
-- and its followers (fired every time, then cleared with followers_set).
-- Params: $id
SELECT task, state, result, error, callbacks, chord, followers FROM conveyor_jobs WHERE id = $id AND fired = 1
