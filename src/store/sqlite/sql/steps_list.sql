-- The steps of a job in recording order.
-- Params: $id
SELECT name, result, token, recorded_at FROM conveyor_steps WHERE job_id = $id ORDER BY seq
