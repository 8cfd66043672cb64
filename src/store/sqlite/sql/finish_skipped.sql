-- A job final again after its callbacks fired (a dead-letter retry): what it would have fired.
-- Params: $id
SELECT state, callbacks, chord FROM conveyor_jobs WHERE id = $id AND fired = 1
