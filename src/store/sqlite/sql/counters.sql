-- Every counter.
SELECT name, value FROM conveyor_counters
