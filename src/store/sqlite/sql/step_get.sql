-- One recorded step of a job.
-- Params: $id, $name
SELECT result FROM conveyor_steps WHERE job_id = $id AND name = $name
