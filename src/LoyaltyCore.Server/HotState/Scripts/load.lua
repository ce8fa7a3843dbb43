-- Loads a member's state computed from the ledger.
-- KEYS[1] member state hash   KEYS[2] pending ledger entries hash
-- ARGV[1] version  ARGV[2] balance  ARGV[3] lifetime spend  ARGV[4] tier  ARGV[5] purchases
-- ARGV[6] loaded at (ms; 0 when the ledger holds no transaction for the member)  ARGV[7] enrolled at (ms)
-- ARGV[8] '1' to replace an existing state (rebuild), '0' to load only when absent
-- Replies: 1 loaded | 0 already present | -1 entries still pending their ledger commit (rebuild refused)
if ARGV[8] == '1' then
  if redis.call('HLEN', KEYS[2]) > 0 then
    return -1
  end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
-- A rebuild keeps the existing load time: transaction records lost before it are still lost.
local loadedAt = redis.call('HGET', KEYS[1], 'h') or ARGV[6]
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'b', ARGV[2], 's', ARGV[3], 't', ARGV[4], 'n', ARGV[5], 'h', loadedAt, 'e', ARGV[7])
return 1
