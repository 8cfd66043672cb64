-- The items of a pool, by name.
-- Params: $pool
SELECT item, holder, token, expires_at FROM conveyor_pool_items WHERE pool = $pool ORDER BY item
