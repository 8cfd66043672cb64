-- Leave the followers of deduplicated sends to the jobs holding their ids in this queue (Redis
-- Cluster only: a send whose id another queue's slot holds was refused by the id registry, and
-- its chord place and chain's next steps must still follow that job; see follow in lib.lua).
-- KEYS[1] the base of the queue holding the ids
-- ARGV[1] now ('' for the store's clock), ARGV[2] key prefix, ARGV[3] the id registry's key ('' under
-- Cluster), then 3 per send: the holder's id, its callbacks wire JSON or '', its chord wire JSON or ''
-- Returns: deliveries left in the outbox (callbacks fired at once, for a holder already final)
-- @include lib
local base = KEYS[1]
local now = clock(ARGV[1])
set_store(ARGV[2], ARGV[3])
for i = 4, #ARGV, 3 do
  follow(base, ARGV[i], ARGV[i + 1] ~= '' and ARGV[i + 1] or nil, ARGV[i + 2] ~= '' and ARGV[i + 2] or nil, now)
end
flush_counts()
return outboxed
