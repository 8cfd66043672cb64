-- Return jobs whose lease has passed to their queue, or fail them when their deliveries ran out.
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] wake channel, ARGV[3] key prefix,
-- ARGV[4] the id registry's key ('' under Cluster)
-- Returns: { {requeued ids}, {failed ids}, deliveries left in the outbox }
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
set_store(ARGV[3], ARGV[4])
local expired = redis.call('ZRANGEBYSCORE', base .. 'leased', '-inf', '(' .. now, 'LIMIT', 0, 1000)
local requeued, failed = {}, {}
for _, id in ipairs(expired) do
  local key = base .. 'job:' .. id
  local f = redis.call('HMGET', key, 'd', 'md', 'p', 'r', 'sq', 'tk', 'at')
  redis.call('HDEL', key, 'l')
  if tonumber(f[1]) >= tonumber(f[2]) then
    local err = policy_error('worker_lost', { id = id, deliveries = f[1] })
    redis.call('HSET', key, 's', 'FAILURE', 'err', err, 'f', now)
    redis.call('ZADD', base .. 'failed', f[5], id)
    count(base, 'STARTED', 'FAILURE')
    finish(base, id, key, 'FAILURE', now)
    failed[#failed + 1] = id
  else
    history_append(key, f[6], f[7] or '1', now, 'lost', nil)
    redis.call('HSET', key, 's', 'PENDING')
    enqueue_waiting(base, id, f[3], f[4], f[5], now)
    count(base, 'STARTED', 'PENDING')
    requeued[#requeued + 1] = id
  end
end
if #expired > 0 then redis.call('ZREM', base .. 'leased', unpack(expired)) end
if #requeued > 0 then redis.call('PUBLISH', ARGV[2], 'recovered') end
flush_counts()
return { requeued, failed, outboxed }
