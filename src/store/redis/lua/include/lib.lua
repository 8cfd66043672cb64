-- Shared helpers, included at build time into the scripts that say `-- @include lib`.
-- Key layout, all under the queue's base `<prefix>:{<queue>}:` (one hash tag per queue, so a
-- script touches one Redis Cluster slot):
--   job:<id>   HASH  t task, s state, a args, p priority, r run_at, x expires_at, e enqueued_at,
--                    st started_at, f finished_at, at attempt, d deliveries, md max_deliveries,
--                    tk token, w worker, l lease_expires_at, tm terminate, res result, err error,
--                    sq seq, ku keep_until,
--                    ik idempotency key, it key TTL ms after final (absent: released at final),
--                    cb callbacks (wire JSON, see below), ch chord membership (wire JSON),
--                    cf callbacks fired (set once, ever), par ParentInfo JSON (callback jobs),
--                    fl followers: {cb = [callback wire], ch = [chord wire]} left by deduplicated
--                       sends, fired at the next final state (absent: none),
--                    og 'chord' on a chord's callback,
--                    pg progress "<at>:<fraction>:<info JSON or empty for null>" (deleted at reserve),
--                    hi history: earlier deliveries that did not end the job, one DeliveryRecord
--                       JSON object per line, each ended by "\n" (JSON text never holds a raw
--                       newline), oldest first, the last 50 (absent: none, the common path)
--   ready      ZSET  due waiting jobs: score -priority, member "<run_at:15>:<seq:15>:<id>", so
--                    ZPOPMIN yields priority desc, then run time, then FIFO
--   scheduled  ZSET  waiting jobs not yet due: score run_at, member id
--   leased     ZSET  STARTED jobs: score lease_expires_at, member id
--   failed     ZSET  FAILURE jobs (the dead letters): score seq, member id
--   kept       ZSET  SUCCESS and REVOKED jobs: score keep_until (result TTL), member id
--   counts     HASH  jobs per state
--   seq        STRING the FIFO counter
--   idem       HASH  idempotency key -> the latest job enqueued with it (held or not: see held_by)
--   counters   HASH  the exactly-once counters (COUNTERS in store.ts) this slot counted
--   steps:<id> HASH  step name -> "<order>:<token>:<recorded_at>:<result JSON>"
--   chord:<cb> HASH  chord member index -> a mark: "S<result JSON>", or "F" and the JSON object
--                    {m = member id, e = ChordError message} of a member that did not succeed, in the
--                    slot of the chord's callback <cb>; kept until the callback's job is deleted,
--                    so a mark relayed twice, or sent after the chord completed, changes nothing,
--                    and a dead-letter retry of a callback failed at birth reads the marks here
--   outbox     LIST  deliveries (callbacks, chord marks, and under Cluster id releases) bound for
--                    another slot, made in this slot's transition; RedisStore relays and then
--                    LREMs each one
-- Wire JSON, written by the adapter so Lua never re-encodes user JSON (cjson loses number
-- precision and turns [] into {}); every user JSON value is a *string* in it:
--   spec      {id, t task, q queue, a args JSON, p priority, md max_deliveries, cb? callbacks wire}
--   cb        [{on, pr passResult, j spec, jn? join}, ...]
--   ch        {i index, n size, j spec of the chord's callback}
--   delivery  {k 'cb', j spec, a args JSON, par?, err? (born FAILURE), og? 'chord'}
--             | {k 'mark', j spec, i, n, v mark} | {k 'unclaim', id, q} (Cluster: an id to release)
-- Pools live under their own tag `<prefix>:{pool:<name>}:`:
--   items      ZSET  every item (score 0; listed by name)
--   free       LIST  free items, the one free longest first
--   held       ZSET  held items: score lease expires_at
--   item:<it>  HASH  of a held item: h holder, tk token, x expires_at, rm removed (leaves on release)
--   token      STRING the pool's fencing counter
--   counters   HASH  as a queue's
-- The worker registry lives under its own tag `<prefix>:{workers}:` (not per queue):
--   info       HASH  worker id -> WorkerInfo JSON (built by the adapter, lastSeenAt included)
--   expiry     ZSET  worker id, score: its last heartbeat + ttl (listed while score >= now;
--                    expired ones are deleted at the next heartbeat)
-- Schedule ticks live under `<prefix>:{beat}:`:
--   ticks      HASH  schedule name -> the last tick (epoch ms) beat fired
-- The id registry (id -> the queue holding that job): on a single Redis one HASH `<prefix>:ids`
-- outside any tag, reached by the scripts that create and delete jobs; under Cluster BUCKETS
-- hashes `<prefix>:{ids:<n>}:ids`, each in its own slot with its `counters` (redis-ids.ts).
-- Outside any tag: `<prefix>:queues` SET and `<prefix>:pools` SET, the names in use.

-- The store's clock, in epoch ms: Redis' own (TIME), read inside the script that decides, so
-- every process agrees on what is due and what has lapsed whatever its host's clock says. A
-- test passes its fake clock's reading instead (ARGV `now`, '' when none). Redis 5 and later
-- replicate a script's effects, not the script, so reading TIME before writing is allowed.
local function clock(now_arg)
  if now_arg ~= '' then return tonumber(now_arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A time argument: epoch ms, or "+<ms>" for that long after `now` (a countdown, an expiry in).
local function at_time(v, now)
  if string.sub(v, 1, 1) == '+' then
    local after = tonumber(string.sub(v, 2))
    return after and now + after
  end
  return tonumber(v)
end

-- The store's key prefix and its id registry, set once by each script that creates, finishes
-- or deletes jobs (set_store): a callback bound for another queue needs that queue's base and
-- wake channel, and a job created or deleted updates the registry. Both are nil until then, so
-- that a script which forgets set_store fails at once instead of taking the Cluster's path.
local prefix = nil
-- The id registry, a HASH id -> queue of every stored job, so that an id is unique in the whole
-- store and not only in its queue: `<prefix>:ids` on a single Redis, which any script reaches.
-- '' under Cluster, where the registry lives in slots of its own (redis-ids.ts): the adapter
-- claims an id there before its job is created, and a deleted job leaves an `unclaim` delivery
-- in its slot's outbox.
local ids = nil
-- Deliveries this script left in its slot's outbox, for the adapter to relay.
local outboxed = 0

local function set_store(prefix_arg, ids_arg)
  prefix = prefix_arg
  ids = ids_arg
end

-- The queue whose keys are under `base` (`<prefix>:{<queue>}:`).
local function queue_of(base)
  return string.sub(base, #prefix + 3, -3)
end

-- The queue that holds job `id` by the registry, or nil (a free id, or a registry elsewhere).
local function id_owner(id)
  if ids == '' then return nil end
  return redis.call('HGET', ids, id)
end

-- Add n to one of the exactly-once counters of a slot.
local function bump(base, name, n)
  if n and n ~= 0 then redis.call('HINCRBY', base .. 'counters', name, n) end
end

local function ready_member(run_at, seq, id)
  return string.format('%015d:%015d:', tonumber(run_at), tonumber(seq)) .. id
end

-- Job counts per slot and state change as a script goes, written once at its end by
-- flush_counts (a script may change another slot's: a follower fired in the holder's queue).
local counts = {}

-- Move a job's count from one state to another (either may be nil) in the slot at `base`.
local function count(base, from, to)
  local c = counts[base]
  if not c then
    c = {}
    counts[base] = c
  end
  if from then c[from] = (c[from] or 0) - 1 end
  if to then c[to] = (c[to] or 0) + 1 end
end

-- Write the count changes; every script that creates, moves or deletes jobs ends with this.
local function flush_counts()
  for base, c in pairs(counts) do
    for state, n in pairs(c) do
      if n ~= 0 then redis.call('HINCRBY', base .. 'counts', state, n) end
    end
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
-- fields the writers need: { s, tk, tm, sq, p, r, at, d, cb, ch, fl }. The verdict is policy's
-- (POLICY_FENCE, by state for the current token; any other token is stale).
-- Codes (mapped to LossReason by the adapter): STALE, REVOKED, REVOKED_TERMINATE, FINAL, MISSING.
local function fence(key, token)
  local f = redis.call('HMGET', key, 's', 'tk', 'tm', 'sq', 'p', 'r', 'at', 'd', 'cb', 'ch', 'fl')
  local state, current = f[1], f[2]
  if not state then return 'MISSING', f end
  local verdict = current == token and POLICY_FENCE[state] or 'stale'
  if verdict == 'ok' then return nil, f end
  if verdict == 'revoked' and f[3] == '1' then return 'REVOKED_TERMINATE', f end
  return string.upper(verdict), f
end

-- fence() for a script fenced by one job's token (step, progress): a STALE refusal is counted.
local function fence_counted(base, key, token)
  local refused, f = fence(key, token)
  if refused == 'STALE' then bump(base, 'stale_writes_refused_total', 1) end
  return refused, f
end

-- The result JSON of a `steps:<id>` entry "<order>:<token>:<recorded_at>:<result JSON>".
local function step_result(entry)
  return string.match(entry, '^[^:]*:[^:]*:[^:]*:(.*)$')
end

-- How many earlier deliveries a job's history keeps.
local HISTORY_MAX = 50

-- Append the current delivery of the job at `key` to its history (field `hi`), before the
-- transition that ends the delivery without ending the job (retry, lost lease, release). Built
-- as text: `err` (the user's error JSON) is spliced in unchanged; `now` is the script's clock reading.
local function history_append(key, token, attempt, now, outcome, err)
  local g = redis.call('HMGET', key, 'w', 'st', 'hi')
  local entry = '{"token":' .. token .. ',"attempt":' .. attempt .. ',"worker":' .. (g[1] and cjson.encode(g[1]) or 'null') ..
    ',"startedAt":' .. (g[2] or 'null') .. ',"endedAt":' .. now .. ',"outcome":"' .. outcome .. '","error":' .. (err or 'null') .. '}\n'
  local history = g[3] or ''
  local _, entries = string.gsub(history, '\n', '')
  if entries >= HISTORY_MAX then history = string.sub(history, string.find(history, '\n', 1, true) + 1) end
  redis.call('HSET', key, 'hi', history .. entry)
end

-- Delete a job with its steps, its chord record (a chord's callback), its idempotency key if it
-- is the key's latest holder, and its id from the registry (the caller removes it from its index).
local function drop_job(base, id)
  local key = base .. 'job:' .. id
  local f = redis.call('HMGET', key, 's', 'ik')
  count(base, f[1], nil)
  if f[2] and redis.call('HGET', base .. 'idem', f[2]) == id then redis.call('HDEL', base .. 'idem', f[2]) end
  redis.call('DEL', key, base .. 'steps:' .. id, base .. 'chord:' .. id)
  local queue = queue_of(base)
  if ids ~= '' then
    if redis.call('HGET', ids, id) == queue then redis.call('HDEL', ids, id) end
  else
    redis.call('RPUSH', base .. 'outbox', cjson.encode({ k = 'unclaim', id = id, q = queue }))
    outboxed = outboxed + 1
  end
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

-- ---- Finishing: callbacks, chords, parents (see the Store JSDoc on finishing a job) ----

local FINAL = POLICY_FINAL

-- `[value, ...args]` from JSON texts, spliced as text (see the wire JSON note at the top).
local function prepend_arg(value, args)
  if string.find(args, '^%s*%[%s*%]%s*$') then return '[' .. value .. ']' end
  local rest = string.match(args, '^%s*%[%s*(.*)$')
  if not rest then return '[' .. value .. ']' end
  return '[' .. value .. ',' .. rest
end

-- Whether a callback registered `on` fires for this outcome.
local function fires(on, success)
  return on == 'final' or (on == 'success') == success
end

-- The ParentInfo JSON of a finished job, built as text: its result stays the exact string.
local function parent_json(id, task, state, res, err)
  return '{"id":' .. cjson.encode(id) .. ',"task":' .. cjson.encode(task) .. ',"state":"' .. state ..
    '","resultJson":' .. (res and cjson.encode(res) or 'null') .. ',"error":' .. (err or 'null') .. '}'
end

-- Create a job made by the store (a callback, a chord's callback) from its spec, PENDING and due
-- now, or FAILURE with `err`. Answers false, counting a deduplicated callback, when the id is
-- stored already, here or (by the registry) in another queue — unless it is the same delivery
-- relayed twice: its `par` (a callback's parent), or its `og` (a chord's callback), is ours.
local function insert_job(base, j, args, par, now, err, origin)
  local key = base .. 'job:' .. j.id
  if redis.call('EXISTS', key) == 1 then
    local again = (par and redis.call('HGET', key, 'par') == par) or (origin and redis.call('HGET', key, 'og') == origin)
    if not again then bump(base, 'callbacks_deduplicated_total', 1) end
    return false
  end
  local owner = id_owner(j.id)
  if owner and owner ~= j.q then
    bump(base, 'callbacks_deduplicated_total', 1)
    return false
  end
  local seq = redis.call('INCR', base .. 'seq')
  local fields = { 't', j.t, 'a', args, 'p', j.p, 'r', now, 'e', now, 'md', j.md, 'sq', seq, 'at', 1 }
  if par then fields[#fields + 1] = 'par'; fields[#fields + 1] = par end
  if origin then fields[#fields + 1] = 'og'; fields[#fields + 1] = origin end
  if ids ~= '' then redis.call('HSET', ids, j.id, j.q) end
  if j.cb then fields[#fields + 1] = 'cb'; fields[#fields + 1] = j.cb end
  if err then
    redis.call('HSET', key, 's', 'FAILURE', 'err', err, 'f', now, unpack(fields))
    redis.call('ZADD', base .. 'failed', seq, j.id)
    count(base, nil, 'FAILURE')
    redis.call('PUBLISH', prefix .. ':settled', 'chord')
  else
    redis.call('HSET', key, 's', 'PENDING', unpack(fields))
    redis.call('ZADD', base .. 'ready', -tonumber(j.p), ready_member(now, seq, j.id))
    count(base, nil, 'PENDING')
    redis.call('PUBLISH', prefix .. ':wake:' .. j.q, 'callback')
  end
  return true
end

-- Defined below, and calling each other: a chord's last mark delivers its callback, which
-- applies, and a callback failed at birth finishes, which may deliver more.
local finish, apply, deliver

-- Record a member's outcome in its chord (this slot is the callback's); the mark that completes
-- the chord enqueues the callback, or records it as FAILURE with a ChordError.
local function chord_mark(base, d, now)
  local record = base .. 'chord:' .. d.j.id
  local field = tostring(d.i)
  if redis.call('HSETNX', record, field, d.v) == 0 then
    if redis.call('HGET', record, field) ~= d.v then bump(base, 'callbacks_deduplicated_total', 1) end
    return
  end
  local size = tonumber(d.n)
  if redis.call('HLEN', record) < size then return end
  local results, failure = {}, nil
  for from = 0, size - 1, 1000 do
    local fields = {}
    for i = from, math.min(from + 999, size - 1) do fields[#fields + 1] = tostring(i) end
    for _, v in ipairs(redis.call('HMGET', record, unpack(fields))) do
      if not v then return end -- an index out of range filled the record, not every member
      if string.sub(v, 1, 1) == 'S' then
        results[#results + 1] = #v > 1 and string.sub(v, 2) or 'null'
      elseif not failure then
        -- {m, e}; a mark written before it had that shape is the message itself.
        local readable, mark = pcall(cjson.decode, string.sub(v, 2))
        failure = (readable and type(mark) == 'table' and type(mark.e) == 'string') and mark.e or string.sub(v, 2)
      end
    end
  end
  local cb = { k = 'cb', j = d.j, og = 'chord' }
  if not failure then
    cb.a = prepend_arg('[' .. table.concat(results, ',') .. ']', d.j.a)
  else
    -- A dead-letter retry of the callback reads the marks from this record (retry_final.lua).
    cb.a = d.j.a
    cb.err = cjson.encode({ type = POLICY_ERRORS.chord.type, code = POLICY_ERRORS.chord.code, message = failure })
  end
  deliver(base, cb, now)
end

-- Apply a delivery in the slot it is bound for (this script's). A callback recorded as FAILURE
-- at birth (a chord's, with a ChordError) finishes in turn: its own callbacks fire.
apply = function(base, d, now)
  if d.k == 'mark' then return chord_mark(base, d, now) end
  if insert_job(base, d.j, d.a, d.par, now, d.err, d.og) and d.err then
    finish(base, d.j.id, base .. 'job:' .. d.j.id, 'FAILURE', now)
  end
end

-- Apply a delivery now when it is bound for this slot; otherwise leave it in this slot's outbox.
-- Under Cluster a callback always goes through the outbox, even to its own queue: the adapter
-- claims its id in the registry's slot first.
deliver = function(base, d, now)
  if prefix .. ':{' .. d.j.q .. '}:' == base and (d.k == 'mark' or ids ~= '') then return apply(base, d, now) end
  redis.call('RPUSH', base .. 'outbox', cjson.encode(d))
  outboxed = outboxed + 1
end

-- The ChordError message of a member that did not succeed. The error is the user's: when
-- cjson cannot read it (a `\ud83d` escape of a lone surrogate), the message says so instead of
-- failing the script halfway through its writes.
local function chord_failure(id, index, state, err)
  local readable, e = pcall(cjson.decode, err or '{}')
  if not readable or type(e) ~= 'table' then e = { message = '(an error cjson cannot read)' } end
  local type_, message = e.type, e.message
  if type(type_) ~= 'string' then type_ = 'Error' end
  if type(message) ~= 'string' then message = '' end
  return policy_message('chord', { member = id, index = index, state = state, type = type_, message = message })
end

-- Fire, for job `id` final as `state`, the `callbacks` that fire for that outcome (each with the
-- job as parent), and mark the `chords` places with its outcome.
local function fire(base, id, state, task, res, err, callbacks, chords, now)
  local success = state == 'SUCCESS'
  local result = success and (res or 'null') or nil
  local error_ = (not success) and err or nil
  local par = parent_json(id, task, state, result, error_)
  for _, c in ipairs(callbacks) do
    if fires(c.on, success) then
      local args = c.j.a
      if c.pr and success then args = prepend_arg(result, args) end
      deliver(base, { k = 'cb', j = c.j, a = args, par = par }, now)
    end
  end
  for _, ch in ipairs(chords) do
    local v = success and ('S' .. result) or ('F' .. cjson.encode({ m = id, e = chord_failure(id, ch.i, state, error_) }))
    deliver(base, { k = 'mark', j = ch.j, i = ch.i, n = ch.n, v = v }, now)
  end
end

-- A job just became final (`state`): the first time ever, fire its callbacks for that outcome
-- and record it in its chord, or any later time count what it skips; and, every time, fire its
-- followers and drop them.
finish = function(base, id, key, state, now)
  local g = redis.call('HMGET', key, 'cf', 'cb', 'ch', 't', 'res', 'err', 'fl')
  if not g[2] and not g[3] and not g[7] then return end
  local callbacks = g[2] and cjson.decode(g[2]) or {}
  if g[1] then
    local skipped = g[3] and 1 or 0
    for _, c in ipairs(callbacks) do
      if fires(c.on, state == 'SUCCESS') then skipped = skipped + 1 end
    end
    bump(base, 'callbacks_deduplicated_total', skipped)
  elseif g[2] or g[3] then
    redis.call('HSET', key, 'cf', 1)
    fire(base, id, state, g[4], g[5], g[6], callbacks, g[3] and { cjson.decode(g[3]) } or {}, now)
  end
  if g[7] then
    local fl = cjson.decode(g[7])
    redis.call('HDEL', key, 'fl')
    fire(base, id, state, g[4], g[5], g[6], fl.cb, fl.ch, now)
  end
end

-- A deduplicated send (its id stored, or its key held by job `holder` of this slot) leaves its
-- followers to the holder: its chord place (`ch_wire`) and its chains' next steps (the callbacks
-- of `cb_wire` with a `jn`), unless the holder has them already (the same place; a callback with
-- the same `jn`). Fired now when the holder is final, else kept in its `fl` until it is.
local function follow(base, holder, cb_wire, ch_wire, now)
  local joining = {}
  for _, c in ipairs(cb_wire and cjson.decode(cb_wire) or {}) do
    if c.jn then joining[#joining + 1] = c end
  end
  if #joining == 0 and not ch_wire then return end
  local key = base .. 'job:' .. holder
  local g = redis.call('HMGET', key, 's', 'cb', 'ch', 'fl', 't', 'res', 'err')
  if not g[1] then return end
  local fl = g[4] and cjson.decode(g[4]) or { cb = {}, ch = {} }
  local joins, places = {}, {}
  for _, c in ipairs(g[2] and cjson.decode(g[2]) or {}) do
    if c.jn then joins[c.jn] = true end
  end
  for _, c in ipairs(fl.cb) do joins[c.jn] = true end
  for _, p in ipairs(g[3] and { cjson.decode(g[3]) } or {}) do places[p.i .. ':' .. p.j.id] = true end
  for _, p in ipairs(fl.ch) do places[p.i .. ':' .. p.j.id] = true end
  local callbacks, chords = {}, {}
  for _, c in ipairs(joining) do
    if not joins[c.jn] then
      joins[c.jn] = true
      callbacks[#callbacks + 1] = c
    end
  end
  local place = ch_wire and cjson.decode(ch_wire)
  if place and not places[place.i .. ':' .. place.j.id] then chords[1] = place end
  if #callbacks == 0 and #chords == 0 then return end
  if FINAL[g[1]] then return fire(base, holder, g[1], g[5], g[6], g[7], callbacks, chords, now) end
  for _, c in ipairs(callbacks) do fl.cb[#fl.cb + 1] = c end
  for _, p in ipairs(chords) do fl.ch[#fl.ch + 1] = p end
  redis.call('HSET', key, 'fl', cjson.encode(fl))
end

-- The job holding idempotency key `ik` in the queue at `base`, or nil: the job the key was given
-- to last (by enqueue or dead-letter retry), while it exists (its result TTL not passed) and is
-- not final, or is final and f + it is still ahead.
local function held_by(base, ik, now)
  local holder = redis.call('HGET', base .. 'idem', ik)
  if not holder then return nil end
  local h = redis.call('HMGET', base .. 'job:' .. holder, 's', 'f', 'it', 'ku')
  if h[1] and policy_key_held(h[1], h[2], h[3], h[4], now) then return holder end
  return nil
end

-- Lease up to `limit` due jobs; due jobs past their expiry are REVOKED instead.
-- Returns { {id, task, args, attempt, deliveries, token, enqueued_at, parent JSON or false}, ... }.
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
      local f = redis.call('HMGET', key, 'x', 's', 't', 'a', 'at', 'e', 'tk', 'd', 'par', 'pg')
      if f[1] and tonumber(f[1]) < now then
        local err = policy_error('expired', { id = id })
        local keep = now + revoked_ttl_ms
        redis.call('HSET', key, 's', 'REVOKED', 'err', err, 'f', now, 'ku', keep)
        zadd(base .. 'kept', keep, id)
        count(base, f[2], 'REVOKED')
        finish(base, id, key, 'REVOKED', now)
      else
        local token = tonumber(f[7] or '0') + 1
        local deliveries = tonumber(f[8] or '0') + 1
        redis.call('HSET', key, 's', 'STARTED', 'w', worker, 'st', now, 'l', lease_until, 'tm', 0, 'tk', token, 'd', deliveries)
        if f[10] then redis.call('HDEL', key, 'pg') end -- a new delivery starts with no progress
        zadd(base .. 'leased', lease_until, id)
        count(base, f[2], 'STARTED')
        out[#out + 1] = { id, f[3], f[4], f[5] or '1', deliveries, token, f[6], f[9] }
      end
    end
  end
  return out
end

-- ---- Pools (their own tag; see the key layout) ----

-- Return a pool's items whose lease lapsed (an item removed while held leaves instead).
local function pool_reclaim(base, now)
  local lapsed = redis.call('ZRANGEBYSCORE', base .. 'held', '-inf', '(' .. now)
  for _, item in ipairs(lapsed) do
    local key = base .. 'item:' .. item
    if redis.call('HGET', key, 'rm') then
      redis.call('ZREM', base .. 'items', item)
    else
      redis.call('RPUSH', base .. 'free', item)
    end
    redis.call('DEL', key)
  end
  if #lapsed > 0 then
    redis.call('ZREM', base .. 'held', unpack(lapsed))
    bump(base, 'pool_items_reclaimed_total', #lapsed)
  end
  return #lapsed
end
