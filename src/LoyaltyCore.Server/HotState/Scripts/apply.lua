-- Applies one scored or redeemed transaction to a member's hot state, atomically and at most once.
-- KEYS[1] member state hash   KEYS[2] transaction record   KEYS[3] pending ledger entries hash
-- ARGV[1] transaction id      ARGV[2] expected state version ('' when the caller has no snapshot)
-- ARGV[3] points delta        ARGV[4] spend delta          ARGV[5] tier after ('' = unchanged)
-- ARGV[6] record (fingerprint .. response)                 ARGV[7] ledger entry
-- ARGV[8] record ttl seconds  ARGV[9] occurred at (ms)     ARGV[10] now (ms)
-- ARGV[11] replay window (ms) ARGV[12] clock skew (ms)     ARGV[13] '1' when the ledger was already checked
-- Replies: {'R', record, pending entry or false} replay | {'M'} member state missing
--          {'L'} the record may have been forgotten, check the ledger first
--          {'C', version, balance, spend, tier, purchases} snapshot out of date | {'I', balance} insufficient points
--          {'A', version, balance} applied
local record = redis.call('GET', KEYS[2])
if record then
  return {'R', record, redis.call('HGET', KEYS[3], ARGV[1])}
end

local state = redis.call('HMGET', KEYS[1], 'v', 'b', 's', 't', 'n', 'h')
if not state[1] then
  return {'M'}
end

if ARGV[13] ~= '1' then
  -- The record of an earlier attempt is only guaranteed here if it was applied within the replay window
  -- and after this state was last loaded from the ledger; otherwise only the ledger can tell.
  local occurred = tonumber(ARGV[9])
  local skew = tonumber(ARGV[12])
  if occurred <= tonumber(ARGV[10]) - tonumber(ARGV[11]) + skew or occurred < tonumber(state[6]) + skew then
    return {'L'}
  end
end

if state[1] ~= ARGV[2] then
  return {'C', state[1], state[2], state[3], state[4], state[5]}
end

local delta = tonumber(ARGV[3])
if delta < 0 and tonumber(state[2]) + delta < 0 then
  return {'I', state[2]}
end

-- Scripts are not rolled back on error: the version goes first so a malformed state fails before any change.
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
local balance = redis.call('HINCRBY', KEYS[1], 'b', ARGV[3])
local spend = tonumber(ARGV[4])
if spend > 0 then
  redis.call('HINCRBY', KEYS[1], 's', ARGV[4])
  redis.call('HINCRBY', KEYS[1], 'n', 1)
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 't', ARGV[5])
end
redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[8])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[7])
return {'A', version, balance}
