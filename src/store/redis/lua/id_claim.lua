-- Claim ids for their queues in one bucket of the id registry (Redis Cluster only: a script
-- touches one slot, so the registry lives in slots of its own and the adapter claims an id here
-- before its job is created in its queue's slot; see redis-ids.ts).
-- KEYS[1] the bucket's base `<prefix>:{ids:<n>}:`
-- ARGV[1] the counter a refused claim counts (duplicates_suppressed_total for a send,
-- callbacks_deduplicated_total for a callback), then 2 per id: id, queue
-- Returns: { codes, owners }: one code per id, NEW (claimed now), OURS (that queue holds it
-- already) or TAKEN (another queue holds it: refused, and counted), and per id the queue holding
-- it when TAKEN ('' otherwise)
-- @include lib
local base = KEYS[1]
local codes, owners, taken = {}, {}, 0
for i = 2, #ARGV, 2 do
  local owner = redis.call('HGET', base .. 'ids', ARGV[i])
  if not owner then
    redis.call('HSET', base .. 'ids', ARGV[i], ARGV[i + 1])
    codes[#codes + 1] = 'NEW'
    owners[#owners + 1] = ''
  elseif owner == ARGV[i + 1] then
    codes[#codes + 1] = 'OURS'
    owners[#owners + 1] = ''
  else
    codes[#codes + 1] = 'TAKEN'
    owners[#owners + 1] = owner
    taken = taken + 1
  end
end
bump(base, ARGV[1], taken)
return { codes, owners }
