-- Applies a batch of transactions, each to its own member's hot state, atomically and at most once; one call carries
-- every transaction of a batch whose keys share a node (on Redis Cluster: a slot).
-- ARGV[1] now (ms)   ARGV[2] replay window (ms)   ARGV[3] clock skew (ms)   ARGV[4] record ttl (s)
-- Then per transaction, with its three keys KEYS[3t-2..3t] (member state hash, transaction record, pending entries):
--   transaction id, expected state version ('' when the caller has no snapshot), balance delta,
--   record (fingerprint .. response), ledger entry, occurred at (ms), '1' when the ledger was already checked,
--   the version to write (unique to this change, so the caller can send the member's next transaction on it before
--   this one's reply), the balance after, the points that must be available (the balance less the points held,
--   field k.hd) for the change to apply (0: no check, as for credits and forced debits; -1: refuse whatever is
--   available, for a change the caller found impossible on the expected state unless it is a retry),
--   n writes then n (field, value) pairs, d deletes then d fields.
--   The values are the fields' new values, computed by the caller on the state of the expected version: the version
--   check makes sure that is the state they are written over.
-- Reply: one reply per transaction, in order:
--   {'R', record, pending entry or false} replay | {'M'} member state missing
--   {'L'} the record may have been forgotten, check the ledger first
--   {'C', field, value, ...} snapshot out of date: the whole current state
--   {'I', balance, held} not enough points available (or refused)
--   {'A'} applied (as the caller computed it)
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local skew = tonumber(ARGV[3])
local ttl = ARGV[4]
-- unpack is global in Lua 5.1 (Redis, and Garnet's sandbox); later Lua names it table.unpack.
local unpack = unpack or table.unpack

-- Returns the transaction's reply and where the next transaction's arguments start.
local function apply(stateKey, recordKey, pendingKey, a)
  local writes = a + 10
  local deletes = writes + 1 + tonumber(ARGV[writes]) * 2
  local nextArg = deletes + 1 + tonumber(ARGV[deletes])

  local record = redis.call('GET', recordKey)
  if record then
    return {'R', record, redis.call('HGET', pendingKey, ARGV[a])}, nextArg
  end

  local state = redis.call('HMGET', stateKey, 'v', 'b', 'h', 'k.hd')
  if not state[1] then
    return {'M'}, nextArg
  end

  if ARGV[a + 6] ~= '1' then
    -- The record of an earlier attempt is only guaranteed here if it was applied within the replay window
    -- and after this state was last loaded from the ledger; otherwise only the ledger can tell.
    local occurred = tonumber(ARGV[a + 5])
    if occurred <= now - window + skew or occurred < tonumber(state[3]) + skew then
      return {'L'}, nextArg
    end
  end

  if state[1] ~= ARGV[a + 1] then
    local current = redis.call('HGETALL', stateKey)
    table.insert(current, 1, 'C')
    return current, nextArg
  end

  local required = tonumber(ARGV[a + 9])
  if required ~= 0 then
    local held = state[4] or '0'
    if required < 0 or tonumber(state[2]) - tonumber(held) < required then
      return {'I', state[2], held}, nextArg
    end
  end

  -- One write of every changed field; nothing after the checks above can fail on a hash.
  redis.call('HSET', stateKey, 'v', ARGV[a + 7], 'b', ARGV[a + 8], unpack(ARGV, writes + 1, deletes - 1))
  if deletes + 1 < nextArg then
    redis.call('HDEL', stateKey, unpack(ARGV, deletes + 1, nextArg - 1))
  end
  redis.call('SET', recordKey, ARGV[a + 3], 'EX', ttl)
  redis.call('HSET', pendingKey, ARGV[a], ARGV[a + 4])
  return {'A'}, nextArg
end

local replies = {}
local a = 5
for t = 1, #KEYS / 3 do
  local k = (t - 1) * 3
  replies[t], a = apply(KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], a)
end
return replies
