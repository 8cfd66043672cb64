-- Free a held item (fenced by token), or drop it if it was removed while held.
-- Params: $pool, $item, $token, $freed
UPDATE conveyor_pool_items SET holder = NULL, token = NULL, expires_at = NULL, freed = $freed
WHERE pool = $pool AND item = $item AND token = $token AND holder IS NOT NULL
RETURNING removed
