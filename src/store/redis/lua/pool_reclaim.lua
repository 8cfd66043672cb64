-- Return a pool's items whose lease lapsed (counted in pool_items_reclaimed_total).
-- KEYS[1] the pool's base
-- ARGV[1] now ('' for the store's clock)
-- Returns: how many were returned
-- @include lib
return pool_reclaim(KEYS[1], clock(ARGV[1]))
