-- Draws up to the requested points from a campaign budget; never below zero.
-- KEYS[1] remaining points   ARGV[1] points wanted
-- Reply: {points granted, remaining after}, or {-1, -1} when the budget is not in Redis (it must be set up first)
local stored = redis.call('GET', KEYS[1])
if not stored then
  return {-1, -1}
end
local remaining = tonumber(stored)
local wanted = tonumber(ARGV[1])
local granted = wanted
if remaining < granted then
  granted = math.max(remaining, 0)
end
if granted > 0 then
  remaining = redis.call('DECRBY', KEYS[1], granted)
end
return {granted, remaining}
