-- Job counts per queue and state (walks the covering index conveyor_jobs_state).
SELECT queue, state, COUNT(*) AS n FROM conveyor_jobs GROUP BY queue, state
