-- Add jobs to one queue, all or none. An id already stored is left as it is; a job whose
-- idempotency key is held creates nothing and answers the holder.
-- KEYS[1] the queue's base, `<prefix>:{<queue>}:` (every key touched starts with it)
-- ARGV[1] now (epoch ms), ARGV[2] the queue's wake channel,
-- then 11 per job: id, task, args (JSON), priority, run_at, expires_at ('' for none), max_deliveries,
-- idempotency key ('' for none), key TTL ms ('' to release at final), callbacks wire JSON ('' for
-- none), chord wire JSON ('' for none) — the wire formats are described in lib.lua
-- Returns: one {code, id} per job: {CREATED, id} | {EXISTS, id} (id already stored) |
-- {HELD, holder id} (the key is held). Every EXISTS and HELD counts duplicates_suppressed_total.
-- @include lib
local base = KEYS[1]
local now = tonumber(ARGV[1])
local PER_JOB = 11

-- The job holding idempotency key `ik`, or nil: the latest job enqueued with it, while it exists
-- (its result TTL not passed) and is not final, or is final and f + it is still ahead.
local function held_by(ik)
  local holder = redis.call('HGET', base .. 'idem', ik)
  if not holder then return nil end
  local h = redis.call('HMGET', base .. 'job:' .. holder, 's', 'f', 'it', 'ku')
  if not h[1] or (h[4] and tonumber(h[4]) < now) then return nil end
  if not FINAL[h[1]] then return holder end
  if h[3] and h[2] and tonumber(h[2]) + tonumber(h[3]) > now then return holder end
  return nil
end

local out = {}
local created, suppressed = 0, 0
-- One INCRBY for the batch; ids not created leave harmless gaps in the FIFO counter.
local jobs = (#ARGV - 2) / PER_JOB
local seq = redis.call('INCRBY', base .. 'seq', jobs) - jobs
for i = 3, #ARGV, PER_JOB do
  local id, ik = ARGV[i], ARGV[i + 7]
  local key = base .. 'job:' .. id
  seq = seq + 1
  local holder = nil
  if redis.call('EXISTS', key) == 1 then
    holder = id
    out[#out + 1] = { 'EXISTS', id }
  elseif ik ~= '' then
    holder = held_by(ik)
    if holder then out[#out + 1] = { 'HELD', holder } end
  end
  if holder then
    suppressed = suppressed + 1
  else
    local fields = { 't', ARGV[i + 1], 's', 'PENDING', 'a', ARGV[i + 2], 'p', ARGV[i + 3], 'r', ARGV[i + 4],
      'e', ARGV[1], 'md', ARGV[i + 6], 'sq', seq, 'at', 1 }
    -- Optional fields are left out when empty, as JobRecord decodes an absent field as none.
    local optional = { 'x', ARGV[i + 5], 'ik', ik, 'it', ARGV[i + 8], 'cb', ARGV[i + 9], 'ch', ARGV[i + 10] }
    for o = 1, #optional, 2 do
      if optional[o + 1] ~= '' then
        fields[#fields + 1] = optional[o]
        fields[#fields + 1] = optional[o + 1]
      end
    end
    redis.call('HSET', key, unpack(fields))
    if ik ~= '' then redis.call('HSET', base .. 'idem', ik, id) end
    if tonumber(ARGV[i + 4]) <= now then
      zadd(base .. 'ready', -tonumber(ARGV[i + 3]), ready_member(ARGV[i + 4], seq, id))
    else
      zadd(base .. 'scheduled', ARGV[i + 4], id)
    end
    out[#out + 1] = { 'CREATED', id }
    created = created + 1
  end
end
flush_sets()
bump(base, 'duplicates_suppressed_total', suppressed)
if created > 0 then
  redis.call('HINCRBY', base .. 'counts', 'PENDING', created)
  redis.call('PUBLISH', ARGV[2], 'enqueued')
end
return out
