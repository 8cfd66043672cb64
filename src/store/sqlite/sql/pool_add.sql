-- Add an item to a pool; an item already there is left as it is, one removed while held stays.
-- Params: $pool, $item, $freed
INSERT INTO conveyor_pool_items (pool, item, freed) VALUES ($pool, $item, $freed)
ON CONFLICT (pool, item) DO UPDATE SET removed = 0 WHERE removed = 1
