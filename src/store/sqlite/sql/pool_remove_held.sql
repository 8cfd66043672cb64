-- Mark a held item to leave the pool when it is released.
-- Params: $pool, $item
UPDATE conveyor_pool_items SET removed = 1 WHERE pool = $pool AND item = $item AND holder IS NOT NULL AND removed = 0
