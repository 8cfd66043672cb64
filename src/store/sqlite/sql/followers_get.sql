-- A final job's followers, to fire them (then cleared with followers_set), with what they need of it.
-- Params: $id
SELECT task, state, result, error, followers FROM conveyor_jobs
WHERE id = $id AND followers IS NOT NULL
