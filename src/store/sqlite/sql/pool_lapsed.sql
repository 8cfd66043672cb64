-- Held items whose lease has passed, in every pool.
-- Params: $now
SELECT pool, item, token FROM conveyor_pool_items WHERE holder IS NOT NULL AND expires_at < $now
