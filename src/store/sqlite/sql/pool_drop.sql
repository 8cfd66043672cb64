-- Delete an item that was removed while held, once freed.
-- Params: $pool, $item
DELETE FROM conveyor_pool_items WHERE pool = $pool AND item = $item AND holder IS NULL AND removed = 1
