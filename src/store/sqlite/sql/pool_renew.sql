-- Extend a held item's lease (fenced by token).
-- Params: $pool, $item, $token, $expiresAt
UPDATE conveyor_pool_items SET expires_at = $expiresAt
WHERE pool = $pool AND item = $item AND token = $token AND holder IS NOT NULL
