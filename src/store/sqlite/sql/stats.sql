-- Job counts per queue and state (a table scan: no index covers every state, on purpose).
SELECT queue, state, COUNT(*) AS n FROM conveyor_jobs GROUP BY queue, state
