-- Remove a free item now; a held one is marked to leave on release (both answer changes = 1).
-- Params: $pool, $item
DELETE FROM conveyor_pool_items WHERE pool = $pool AND item = $item AND holder IS NULL
