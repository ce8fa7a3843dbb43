-- Gives points back to a campaign budget, if Redis holds it: a budget Redis lost is set up again from the ledger,
-- whose draws (negative for points given back) already count these, so creating the key here would be wrong.
-- KEYS[1] remaining points   ARGV[1] points given back
-- Reply: the remaining points after, or -1 when the budget is not in Redis
if redis.call('EXISTS', KEYS[1]) == 0 then
  return -1
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
