-- One job by id.
-- Params: $id
SELECT * FROM conveyor_jobs WHERE id = $id
