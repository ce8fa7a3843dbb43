-- Loads a member's state computed from the ledger.
-- KEYS[1] member state hash   KEYS[2] pending ledger entries hash
-- ARGV[1] '1' to replace an existing state (rebuild), '0' to load only when absent
-- ARGV[2] loaded at (ms; 0 when the ledger holds no transaction for the member)
-- ARGV[3..] (field, value) pairs, the version 'v' among them
-- Replies: 1 loaded | 0 already present | -1 entries still pending their ledger commit (rebuild refused)
if ARGV[1] == '1' then
  if redis.call('HLEN', KEYS[2]) > 0 then
    return -1
  end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- A rebuild keeps the existing load time: transaction records lost before it are still lost.
local loadedAt = redis.call('HGET', KEYS[1], 'h') or ARGV[2]
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'h', loadedAt)
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
return 1
