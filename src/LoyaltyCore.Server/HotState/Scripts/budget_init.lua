-- Sets up or resizes a campaign budget.
-- KEYS[1] remaining points   KEYS[2] configured total
-- ARGV[1] configured total   ARGV[2] points already drawn according to the ledger (used when Redis holds nothing)
-- Reply: remaining points
local total = redis.call('GET', KEYS[2])
if not total then
  redis.call('SET', KEYS[1], tonumber(ARGV[1]) - tonumber(ARGV[2]))
elseif total ~= ARGV[1] then
  -- A new program version changed the budget: the remaining amount moves by the difference.
  redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]) - tonumber(total))
end
redis.call('SET', KEYS[2], ARGV[1])
return tonumber(redis.call('GET', KEYS[1]))
