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

-- Job counts per state change as a script goes, written once at its end by flush_counts.
local counts = {}

-- Move a job's count from one state to another (either may be nil).
local function count(base, from, to)
  if from then counts[from] = (counts[from] or 0) - 1 end
  if to then counts[to] = (counts[to] or 0) + 1 end
end

-- Write the count changes; every script that calls count() ends with this.
local function flush_counts(base)
  for state, n in pairs(counts) do
    if n ~= 0 then redis.call('HINCRBY', base .. 'counts', state, n) end
  end
  counts = {}
end

-- Sorted-set additions and removals batched per key, one ZADD/ZREM each at the end (fewer
-- commands per job is what makes Redis, usually the busy side, go faster).
local zadds, zrems = {}, {}
local function zadd(key, score, member)
  local t = zadds[key]
  if not t then t = {}; zadds[key] = t end
  t[#t + 1] = score
  t[#t + 1] = member
end
local function zrem(key, member)
  local t = zrems[key]
  if not t then t = {}; zrems[key] = t end
  t[#t + 1] = member
end
local function flush_sets()
  for key, t in pairs(zrems) do
    for i = 1, #t, 5000 do redis.call('ZREM', key, unpack(t, i, math.min(i + 4999, #t))) end
  end
  for key, t in pairs(zadds) do
    for i = 1, #t, 5000 do redis.call('ZADD', key, unpack(t, i, math.min(i + 4999, #t))) end
  end
  zadds, zrems = {}, {}
end

-- Put a waiting job where reserve finds it: ready when due, scheduled otherwise.
local function enqueue_waiting(base, id, priority, run_at, seq, now)
  if tonumber(run_at) <= now then
    redis.call('ZADD', base .. 'ready', -tonumber(priority), ready_member(run_at, seq, id))
  else
    redis.call('ZADD', base .. 'scheduled', run_at, id)
  end
end

-- Why a write fenced by `token` is refused (nil when the lease is current), and the job's
-- fields the writers need: { s, tk, tm, sq, p, r, at, d }.
-- Codes (mapped to LossReason by the adapter): STALE, REVOKED, REVOKED_TERMINATE, FINAL, MISSING.
local function fence(key, token)
  local f = redis.call('HMGET', key, 's', 'tk', 'tm', 'sq', 'p', 'r', 'at', 'd')
  local state, current = f[1], f[2]
  if not state then return 'MISSING', f end
  if state == 'STARTED' and current == token then return nil, f end
  if state == 'REVOKED' and current == token then
    if f[3] == '1' then return 'REVOKED_TERMINATE', f end
    return 'REVOKED', f
  end
  if current ~= token or state == 'PENDING' or state == 'RETRY' then return 'STALE', f end
  return 'FINAL', f
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
-- Leaves batched writes pending: callers end with flush_sets() and flush_counts(base).
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
      local f = redis.call('HMGET', key, 'x', 's', 't', 'a', 'at', 'e', 'tk', 'd')
      if f[1] and tonumber(f[1]) < now then
        local err = cjson.encode({ type = 'Expired', message = 'expired before it could start' })
        local keep = now + revoked_ttl_ms
        redis.call('HSET', key, 's', 'REVOKED', 'err', err, 'f', now, 'ku', keep)
        zadd(base .. 'kept', keep, id)
        count(base, f[2], 'REVOKED')
      else
        local token = tonumber(f[7] or '0') + 1
        local deliveries = tonumber(f[8] or '0') + 1
        redis.call('HSET', key, 's', 'STARTED', 'w', worker, 'st', now, 'l', lease_until, 'tm', 0, 'tk', token, 'd', deliveries)
        zadd(base .. 'leased', lease_until, id)
        count(base, f[2], 'STARTED')
        out[#out + 1] = { id, f[3], f[4], f[5] or '1', deliveries, token, f[6] }
      end
    end
  end
  return out
end
