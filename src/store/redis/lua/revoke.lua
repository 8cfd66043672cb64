-- Cancel a job that is not final; a running one loses its lease at once. It fires its
-- callbacks for REVOKED (deliveries bound for other queues stay in the outbox for the adapter).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] id, ARGV[3] terminate (0/1), ARGV[4] error JSON, ARGV[5] revoked TTL ms,
-- ARGV[6] settled channel, ARGV[7] key prefix, ARGV[8] the id registry's key ('' under Cluster)
-- Returns: REVOKED | FINAL | MISSING
-- @include lib
local base = KEYS[1]
local id = ARGV[2]
local key = base .. 'job:' .. id
set_store(ARGV[7], ARGV[8])
local f = redis.call('HMGET', key, 's', 'r', 'sq')
local state = f[1]
if not state then return 'MISSING' end
if FINAL[state] then return 'FINAL' end
if state == 'STARTED' then
  redis.call('ZREM', base .. 'leased', id)
  redis.call('HDEL', key, 'l')
else
  redis.call('ZREM', base .. 'ready', ready_member(f[2], f[3], id))
  redis.call('ZREM', base .. 'scheduled', id)
end
local now = clock(ARGV[1])
local keep = now + tonumber(ARGV[5])
redis.call('HSET', key, 's', 'REVOKED', 'tm', ARGV[3], 'err', ARGV[4], 'f', now, 'ku', keep)
redis.call('ZADD', base .. 'kept', keep, id)
count(base, state, 'REVOKED')
finish(base, id, key, 'REVOKED', now)
redis.call('PUBLISH', ARGV[6], 'revoked')
flush_counts()
return 'REVOKED'
