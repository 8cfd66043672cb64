-- After a fenced write touched no row: why was it refused?
-- Params: $id
SELECT state, token, terminate FROM conveyor_jobs WHERE id = $id
