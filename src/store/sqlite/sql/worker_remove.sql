-- Forget a worker (it shut down).
-- Params: $id
DELETE FROM conveyor_workers WHERE id = $id
