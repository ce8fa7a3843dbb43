-- Applies one transaction to a member's hot state, atomically and at most once.
-- KEYS[1] member state hash   KEYS[2] transaction record   KEYS[3] pending ledger entries hash
-- ARGV[1] transaction id      ARGV[2] expected state version ('' when the caller has no snapshot)
-- ARGV[3] balance delta       ARGV[4] record (fingerprint .. response)   ARGV[5] ledger entry
-- ARGV[6] record ttl seconds  ARGV[7] occurred at (ms)   ARGV[8] now (ms)   ARGV[9] replay window (ms)
-- ARGV[10] clock skew (ms)    ARGV[11] '1' when the ledger was already checked
-- ARGV[12] n increments, then n (field, delta) pairs; then m sets, m (field, value) pairs; then d deletes, d fields
-- Replies: {'R', record, pending entry or false} replay | {'M'} member state missing
--          {'L'} the record may have been forgotten, check the ledger first
--          {'C', field, value, ...} snapshot out of date: the whole current state | {'I', balance} insufficient points
--          {'A', version, balance} applied
local record = redis.call('GET', KEYS[2])
if record then
  return {'R', record, redis.call('HGET', KEYS[3], ARGV[1])}
end

local state = redis.call('HMGET', KEYS[1], 'v', 'b', 'h')
if not state[1] then
  return {'M'}
end

if ARGV[11] ~= '1' then
  -- The record of an earlier attempt is only guaranteed here if it was applied within the replay window
  -- and after this state was last loaded from the ledger; otherwise only the ledger can tell.
  local occurred = tonumber(ARGV[7])
  local skew = tonumber(ARGV[10])
  if occurred <= tonumber(ARGV[8]) - tonumber(ARGV[9]) + skew or occurred < tonumber(state[3]) + skew then
    return {'L'}
  end
end

if state[1] ~= ARGV[2] then
  local current = redis.call('HGETALL', KEYS[1])
  table.insert(current, 1, 'C')
  return current
end

local delta = tonumber(ARGV[3])
if delta < 0 and tonumber(state[2]) + delta < 0 then
  return {'I', state[2]}
end

-- Scripts are not rolled back on error: the version goes first so a malformed state fails before any change.
local version = redis.call('HINCRBY', KEYS[1], 'v', 1)
local balance = redis.call('HINCRBY', KEYS[1], 'b', ARGV[3])
local i = 12
local count = tonumber(ARGV[i])
for _ = 1, count do
  redis.call('HINCRBY', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  i = i + 2
end
i = i + 1
count = tonumber(ARGV[i])
for _ = 1, count do
  redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])
  i = i + 2
end
i = i + 1
count = tonumber(ARGV[i])
for _ = 1, count do
  redis.call('HDEL', KEYS[1], ARGV[i + 1])
  i = i + 1
end
redis.call('SET', KEYS[2], ARGV[4], 'EX', ARGV[6])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[5])
return {'A', version, balance}
