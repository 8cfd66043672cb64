-- Hold a free item.
-- Params: $pool, $item, $holder, $token, $expiresAt
UPDATE conveyor_pool_items SET holder = $holder, token = $token, expires_at = $expiresAt
WHERE pool = $pool AND item = $item AND holder IS NULL
