-- The pool's item free longest.
-- Params: $pool
SELECT item FROM conveyor_pool_items WHERE pool = $pool AND holder IS NULL ORDER BY freed LIMIT 1
