-- Add jobs to one queue, all or none. An id already stored is left as it is.
-- KEYS[1] the queue's base, `<prefix>:{<queue>}:` (every key touched starts with it)
-- ARGV[1] now (epoch ms), ARGV[2] the queue's wake channel,
-- then 7 per job: id, task, args (JSON), priority, run_at, expires_at ('' for none), max_deliveries
-- Returns: one integer per job, 1 created / 0 already there
-- @include lib
local base = KEYS[1]
local now = tonumber(ARGV[1])
local out = {}
local created = 0
-- One INCRBY for the batch; ids already stored leave harmless gaps in the FIFO counter.
local seq = redis.call('INCRBY', base .. 'seq', (#ARGV - 2) / 7) - (#ARGV - 2) / 7
for i = 3, #ARGV, 7 do
  local id = ARGV[i]
  local key = base .. 'job:' .. id
  seq = seq + 1
  if redis.call('EXISTS', key) == 1 then
    out[#out + 1] = 0
  else
    if ARGV[i + 5] ~= '' then
      redis.call('HSET', key, 't', ARGV[i + 1], 's', 'PENDING', 'a', ARGV[i + 2], 'p', ARGV[i + 3], 'r', ARGV[i + 4],
        'e', ARGV[1], 'md', ARGV[i + 6], 'sq', seq, 'at', 1, 'x', ARGV[i + 5])
    else
      redis.call('HSET', key, 't', ARGV[i + 1], 's', 'PENDING', 'a', ARGV[i + 2], 'p', ARGV[i + 3], 'r', ARGV[i + 4],
        'e', ARGV[1], 'md', ARGV[i + 6], 'sq', seq, 'at', 1)
    end
    if tonumber(ARGV[i + 4]) <= now then
      zadd(base .. 'ready', -tonumber(ARGV[i + 3]), ready_member(ARGV[i + 4], seq, id))
    else
      zadd(base .. 'scheduled', ARGV[i + 4], id)
    end
    out[#out + 1] = 1
    created = created + 1
  end
end
flush_sets()
if created > 0 then
  redis.call('HINCRBY', base .. 'counts', 'PENDING', created)
  redis.call('PUBLISH', ARGV[2], 'enqueued')
end
return out
