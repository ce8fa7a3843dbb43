-- Lowers a budget's remaining points to at most a ceiling (after a failover lost some of its draws); never raises it,
-- so draws in flight since are not given again.
-- KEYS[1] remaining points   ARGV[1] the most that may remain (total less the ledger's draws)
-- Reply: the points taken off (0 when none), or -1 when Redis holds no budget
local remaining = redis.call('GET', KEYS[1])
if not remaining then
  return -1
end
local excess = tonumber(remaining) - tonumber(ARGV[1])
if excess > 0 then
  redis.call('DECRBY', KEYS[1], excess)
  return excess
end
return 0
