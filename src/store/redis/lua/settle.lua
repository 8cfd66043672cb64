-- Record how deliveries of one queue's jobs ended, each fenced by its token; then, optionally,
-- reserve the next jobs — one round trip and one atomic step for a worker's whole batch.
-- A job made final fires its callbacks and chord mark here (see finish in lib.lua).
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] settled channel, ARGV[3] wake channel, ARGV[4] revoked TTL ms,
-- ARGV[5] reserve limit (0: do not reserve), ARGV[6] worker id, ARGV[7] lease ms, ARGV[8] key prefix,
-- ARGV[9] the id registry's key ('' under Cluster), then 5 per settlement: kind (complete | complete_null | fail | retry | release), id, token,
-- payload (result JSON for complete, error JSON for fail/retry, '' otherwise),
-- number (result TTL ms for complete*, the delay ms before the next attempt for retry, '' otherwise)
-- Returns: { {code per settlement: OK | STALE | REVOKED | REVOKED_TERMINATE | FINAL | MISSING},
-- reserved jobs (as take in lib.lua), deliveries left in the outbox, now }
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
set_store(ARGV[8], ARGV[9])
local codes = {}
local woke = false
local stale = 0
-- Read and check first (a failure after a write would leave the write behind): every number.
local FIRST = 10
for i = FIRST, #ARGV, 5 do
  local kind, num = ARGV[i], ARGV[i + 4]
  if not tonumber(ARGV[i + 2]) or ((kind == 'complete' or kind == 'complete_null' or kind == 'retry') and not tonumber(num)) then
    return redis.error_reply('CONVEYOR_BAD_INPUT settlement of job ' .. ARGV[i + 1] .. ': its token, TTL or delay is not a number')
  end
end
for i = FIRST, #ARGV, 5 do
  local kind, id, token, payload, num = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local key = base .. 'job:' .. id
  local refused, f = fence(key, token)
  if refused then
    codes[#codes + 1] = refused
    if refused == 'STALE' then stale = stale + 1 end
  else
    zrem(base .. 'leased', id)
    local final = nil
    if kind == 'complete' or kind == 'complete_null' then
      local keep = now + tonumber(num)
      if kind == 'complete' then
        redis.call('HSET', key, 's', 'SUCCESS', 'f', now, 'ku', keep, 'res', payload)
      else
        redis.call('HSET', key, 's', 'SUCCESS', 'f', now, 'ku', keep)
      end
      redis.call('HDEL', key, 'l', 'err')
      zadd(base .. 'kept', keep, id)
      count(base, 'STARTED', 'SUCCESS')
      final = 'SUCCESS'
    elseif kind == 'fail' then
      redis.call('HSET', key, 's', 'FAILURE', 'err', payload, 'f', now)
      redis.call('HDEL', key, 'l')
      zadd(base .. 'failed', f[4], id)
      count(base, 'STARTED', 'FAILURE')
      final = 'FAILURE'
    elseif kind == 'retry' then
      local run_at = now + tonumber(num)
      history_append(key, token, f[7] or '1', now, 'retry', payload)
      redis.call('HSET', key, 's', 'RETRY', 'err', payload, 'r', run_at, 'at', tonumber(f[7] or '1') + 1, 'd', 0)
      redis.call('HDEL', key, 'l')
      enqueue_waiting(base, id, f[5], run_at, f[4], now)
      count(base, 'STARTED', 'RETRY')
      woke = true
    else -- release: back in line where it was, the delivery not counted
      history_append(key, token, f[7] or '1', now, 'released', nil)
      redis.call('HSET', key, 's', 'PENDING', 'd', tonumber(f[8]) - 1)
      redis.call('HDEL', key, 'l')
      enqueue_waiting(base, id, f[5], f[6], f[4], now)
      count(base, 'STARTED', 'PENDING')
      woke = true
    end
    -- fence read cb, ch and fl: jobs without callbacks, chord or followers skip finish's own read.
    if final and (f[9] or f[10] or f[11]) then finish(base, id, key, final, now) end
    codes[#codes + 1] = 'OK'
  end
end
bump(base, 'stale_writes_refused_total', stale)
if #codes > 0 then redis.call('PUBLISH', ARGV[2], 'settled') end
if woke then redis.call('PUBLISH', ARGV[3], 'retry') end
local jobs = {}
local limit = tonumber(ARGV[5])
if limit > 0 then jobs = take(base, now, ARGV[6], limit, tonumber(ARGV[7]), tonumber(ARGV[4])) end
flush_sets()
flush_counts()
return { codes, jobs, outboxed, now }
