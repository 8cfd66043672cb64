-- Put a FAILURE or REVOKED job back in line with a fresh retry budget (the dead-letter retry);
-- it becomes its idempotency key's holder again. A chord's callback failed at birth (FAILURE,
-- never started: a member did not succeed) runs with its members' results, read from its chord's
-- record, prepended to its args.
-- KEYS[1] the queue's base
-- ARGV[1] now ('' for the store's clock), ARGV[2] id, ARGV[3] wake channel, then 2 per chord
-- member that had failed and has succeeded since (read by the adapter): index, result JSON
-- Returns: RETRIED | NOT_FINAL | MISSING | KEY_HELD (another job holds its key now) |
-- CHORD_FAILED (a member has not succeeded, or its result is gone)
-- @include lib
local base = KEYS[1]
local id = ARGV[2]
local key = base .. 'job:' .. id
local f = redis.call('HMGET', key, 's', 'p', 'sq', 'ik', 'st', 'a')
local state = f[1]
if not state then return 'MISSING' end
if state ~= 'FAILURE' and state ~= 'REVOKED' then return 'NOT_FINAL' end
local now = clock(ARGV[1])
if f[4] then
  local holder = held_by(base, f[4], now)
  if holder and holder ~= id then return 'KEY_HELD' end
end
local args = nil
local size = (state == 'FAILURE' and not f[5]) and redis.call('HLEN', base .. 'chord:' .. id) or 0
if size > 0 then
  local succeeded = {}
  for i = 4, #ARGV, 2 do succeeded[ARGV[i]] = ARGV[i + 1] end
  local results = {}
  for index = 0, size - 1 do
    local mark = redis.call('HGET', base .. 'chord:' .. id, tostring(index))
    if mark and string.sub(mark, 1, 1) == 'S' then
      results[#results + 1] = #mark > 1 and string.sub(mark, 2) or 'null'
    elseif succeeded[tostring(index)] then
      results[#results + 1] = succeeded[tostring(index)]
    else
      return 'CHORD_FAILED'
    end
  end
  args = prepend_arg('[' .. table.concat(results, ',') .. ']', f[6])
end
redis.call('ZREM', base .. 'failed', id)
redis.call('ZREM', base .. 'kept', id)
redis.call('HDEL', key, 'f', 'err', 'res', 'ku', 'tm', 'x')
redis.call('HSET', key, 's', 'PENDING', 'at', 1, 'd', 0, 'r', now)
if args then redis.call('HSET', key, 'a', args) end
if f[4] then redis.call('HSET', base .. 'idem', f[4], id) end
enqueue_waiting(base, id, f[2], now, f[3], now)
count(base, state, 'PENDING')
redis.call('PUBLISH', ARGV[3], 'retried')
flush_counts()
return 'RETRIED'
