-- Advance a pool's counter (creating the pool on first use): the next token or free order.
-- Params: $pool
INSERT INTO conveyor_pools (name, seq) VALUES ($pool, 1)
ON CONFLICT (name) DO UPDATE SET seq = seq + 1
RETURNING seq
