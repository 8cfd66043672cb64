-- Shared helpers, included at build time into the scripts that say `-- @include lib`.
-- Key layout, all under the queue's base `<prefix>:{<queue>}:` (one hash tag per queue, so a
-- script touches one Redis Cluster slot):
--   job:<id>   HASH  t task, s state, a args, p priority, r run_at, x expires_at, e enqueued_at,
--                    st started_at, f finished_at, at attempt, d deliveries, md max_deliveries,
--                    tk token, w worker, l lease_expires_at, tm terminate, res result, err error,
--                    sq seq, ku keep_until
--   ready      ZSET  due waiting jobs: score -priority, member "<run_at:15>:<seq:15>:<id>", so
--                    ZPOPMIN yields priority desc, then run time, then FIFO
--   scheduled  ZSET  waiting jobs not yet due: score run_at, member id
--   leased     ZSET  STARTED jobs: score lease_expires_at, member id
--   failed     ZSET  FAILURE jobs (the dead letters): score seq, member id
--   kept       ZSET  SUCCESS and REVOKED jobs: score keep_until (result TTL), member id
--   counts     HASH  jobs per state
--   seq        STRING the FIFO counter

local function ready_member(run_at, seq, id)
  return string.format('%015d:%015d:', tonumber(run_at), tonumber(seq)) .. id
end

-- Move a job's count from one state to another (either may be nil).
local function count(base, from, to)
  if from then redis.call('HINCRBY', base .. 'counts', from, -1) end
  if to then redis.call('HINCRBY', base .. 'counts', to, 1) end
end

-- Put a waiting job where reserve finds it: ready when due, scheduled otherwise.
local function enqueue_waiting(base, id, priority, run_at, seq, now)
  if tonumber(run_at) <= now then
    redis.call('ZADD', base .. 'ready', -tonumber(priority), ready_member(run_at, seq, id))
  else
    redis.call('ZADD', base .. 'scheduled', run_at, id)
  end
end

-- Why a write fenced by `token` is refused, or nil when the lease is current.
-- Codes (mapped to LossReason by the adapter): STALE, REVOKED, REVOKED_TERMINATE, FINAL, MISSING.
local function fence(key, token)
  local f = redis.call('HMGET', key, 's', 'tk', 'tm')
  local state, current = f[1], f[2]
  if not state then return 'MISSING' end
  if state == 'STARTED' and current == token then return nil end
  if state == 'REVOKED' and current == token then
    if f[3] == '1' then return 'REVOKED_TERMINATE' end
    return 'REVOKED'
  end
  if current ~= token or state == 'PENDING' or state == 'RETRY' then return 'STALE' end
  return 'FINAL'
end

-- Promote scheduled jobs that have come due into the ready set.
local function promote(base, now)
  local due = redis.call('ZRANGEBYSCORE', base .. 'scheduled', '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    local f = redis.call('HMGET', base .. 'job:' .. id, 'p', 'r', 'sq')
    redis.call('ZADD', base .. 'ready', -tonumber(f[1]), ready_member(f[2], f[3], id))
  end
  if #due > 0 then redis.call('ZREM', base .. 'scheduled', unpack(due)) end
end

-- Lease up to `limit` due jobs; due jobs past their expiry are REVOKED instead.
-- Returns { {id, task, args, attempt, deliveries, token, enqueued_at}, ... }.
local function take(base, now, worker, limit, lease_ms, revoked_ttl_ms)
  promote(base, now)
  local out = {}
  local lease_until = now + lease_ms
  while #out < limit do
    local popped = redis.call('ZPOPMIN', base .. 'ready', limit - #out)
    if #popped == 0 then break end
    for i = 1, #popped, 2 do
      local id = string.sub(popped[i], 33)
      local key = base .. 'job:' .. id
      local f = redis.call('HMGET', key, 'x', 's', 't', 'a', 'at', 'e')
      if f[1] and tonumber(f[1]) < now then
        local err = cjson.encode({ type = 'Expired', message = 'expired before it could start' })
        local keep = now + revoked_ttl_ms
        redis.call('HSET', key, 's', 'REVOKED', 'err', err, 'f', now, 'ku', keep)
        redis.call('ZADD', base .. 'kept', keep, id)
        count(base, f[2], 'REVOKED')
      else
        local token = redis.call('HINCRBY', key, 'tk', 1)
        local deliveries = redis.call('HINCRBY', key, 'd', 1)
        redis.call('HSET', key, 's', 'STARTED', 'w', worker, 'st', now, 'l', lease_until, 'tm', 0)
        redis.call('ZADD', base .. 'leased', lease_until, id)
        count(base, f[2], 'STARTED')
        out[#out + 1] = { id, f[3], f[4], f[5] or '1', deliveries, token, f[6] }
      end
    end
  end
  return out
end
