-- Add jobs to one queue, all or none. An id already stored (in this queue, or in another by the
-- id registry) is left as it is; a job whose idempotency key is held creates nothing and answers
-- the holder.
-- KEYS[1] the queue's base, `<prefix>:{<queue>}:` (every key touched starts with it)
-- ARGV[1] now ('' for the store's clock, see clock in lib.lua), ARGV[2] the queue's wake channel,
-- ARGV[3] key prefix, ARGV[4] the id registry's key ('' under Cluster: the adapter claimed the ids),
-- then 7 per job: id, task, args (JSON), priority, run_at (a time: epoch ms, or "+<ms>" from now),
-- max_deliveries, extras: '' for a plain job, else a JSON object of strings with any of x
-- (expires_at, a time as run_at), ik (idempotency key), it (key
-- TTL ms), cb (callbacks wire JSON), ch (chord wire JSON) — wire formats described in lib.lua.
-- (One argument for the rare fields: a bulk enqueue of plain jobs sends and parses no empties.)
-- Returns: { codes, holders, outboxed }: one code per job, CREATED | EXISTS (id already stored) | HELD (the
-- key is held), and the holder's id for each HELD, in order (a flat reply: bulk enqueue returns
-- 1,000 answers). Every EXISTS and HELD counts duplicates_suppressed_total; its chord place and
-- its chain's next steps follow the holder (follow in lib.lua), fired at once when it is final
-- (deliveries for another slot left in the outbox: `outboxed`).
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
set_store(ARGV[3], ARGV[4])
local queue = queue_of(base)
local FIRST, PER_JOB = 5, 7
local PLAIN = {}

-- Read and check first: a script that fails after a write leaves that write behind (Redis has no
-- rollback), so every argument is decoded and every number read before the first write.
local jobs = {}
for i = FIRST, #ARGV, PER_JOB do
  local priority, run_at = tonumber(ARGV[i + 3]), at_time(ARGV[i + 4], now)
  if not priority or not run_at or not tonumber(ARGV[i + 5]) then
    return redis.error_reply('CONVEYOR_BAD_INPUT job ' .. ARGV[i] .. ': priority, run_at and max_deliveries must be numbers')
  end
  local extras = PLAIN
  if ARGV[i + 6] ~= '' then
    local decoded, value = pcall(cjson.decode, ARGV[i + 6])
    if not decoded or type(value) ~= 'table' then
      return redis.error_reply('CONVEYOR_BAD_INPUT job ' .. ARGV[i] .. ': its extras are not readable JSON')
    end
    extras = value
    if extras.x then
      extras.x = at_time(extras.x, now)
      if not extras.x then return redis.error_reply('CONVEYOR_BAD_INPUT job ' .. ARGV[i] .. ': its expiry is not a time') end
    end
    -- Callbacks and chord are decoded again when the job finishes: make sure they will decode.
    for _, wire in ipairs({ extras.cb or 'null', extras.ch or 'null' }) do
      if not pcall(cjson.decode, wire) then
        return redis.error_reply('CONVEYOR_BAD_INPUT job ' .. ARGV[i] .. ': its callbacks or chord are not readable JSON')
      end
    end
  end
  jobs[#jobs + 1] = { i = i, id = ARGV[i], priority = priority, run_at = run_at, extras = extras, owner = id_owner(ARGV[i]) }
end

local out, holders = {}, {}
local created, suppressed = 0, 0
-- One INCRBY for the batch; ids not created leave harmless gaps in the FIFO counter.
local seq = redis.call('INCRBY', base .. 'seq', #jobs) - #jobs
for _, job in ipairs(jobs) do
  local i, id, extras = job.i, job.id, job.extras
  local ik = extras.ik
  local key = base .. 'job:' .. id
  seq = seq + 1
  local holder, holder_base = nil, base
  if job.owner and job.owner ~= queue then
    holder, holder_base = id, prefix .. ':{' .. job.owner .. '}:'
    out[#out + 1] = 'EXISTS'
  elseif redis.call('EXISTS', key) == 1 then
    holder = id
    out[#out + 1] = 'EXISTS'
  elseif ik then
    holder = held_by(base, ik, now)
    if holder then
      out[#out + 1] = 'HELD'
      holders[#holders + 1] = holder
    end
  end
  if holder then
    suppressed = suppressed + 1
    follow(holder_base, holder, extras.cb, extras.ch, now)
  else
    redis.call('HSET', key, 't', ARGV[i + 1], 's', 'PENDING', 'a', ARGV[i + 2], 'p', ARGV[i + 3], 'r', job.run_at,
      'e', now, 'md', ARGV[i + 5], 'sq', seq, 'at', 1)
    -- The rare fields, only when present (JobRecord decodes an absent field as none).
    if extras ~= PLAIN then
      local fields = {}
      for _, name in ipairs({ 'x', 'ik', 'it', 'cb', 'ch' }) do
        if extras[name] then
          fields[#fields + 1] = name
          fields[#fields + 1] = extras[name]
        end
      end
      if #fields > 0 then redis.call('HSET', key, unpack(fields)) end
    end
    if ik then redis.call('HSET', base .. 'idem', ik, id) end
    if ids ~= '' then redis.call('HSET', ids, id, queue) end
    if job.run_at <= now then
      zadd(base .. 'ready', -job.priority, ready_member(job.run_at, seq, id))
    else
      zadd(base .. 'scheduled', job.run_at, id)
    end
    out[#out + 1] = 'CREATED'
    count(base, nil, 'PENDING')
    created = created + 1
  end
end
flush_sets()
flush_counts()
bump(base, 'duplicates_suppressed_total', suppressed)
if created > 0 then redis.call('PUBLISH', ARGV[2], 'enqueued') end
return { out, holders, outboxed }
