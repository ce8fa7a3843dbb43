using System.Collections.Concurrent;
using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.HotState;

/// <summary>
/// The last state seen per member, so that scoring a warm member needs a single Lua round trip. A stale entry is
/// harmless: the script refuses a write based on an old version and answers with the current state.
/// </summary>
internal sealed class SnapshotCache(IOptions<HotStateOptions> options)
{
    private readonly ConcurrentDictionary<string, MemberSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.SnapshotCacheCapacity;
    private int _count;

    public MemberSnapshot? Get(string memberId) => _snapshots.TryGetValue(memberId, out var snapshot) ? snapshot : null;

    public void Set(string memberId, MemberSnapshot snapshot)
    {
        if (_capacity == 0)
        {
            return;
        }

        if (_snapshots.TryAdd(memberId, snapshot))
        {
            // Bounded memory without LRU bookkeeping on the hot path: start over once full.
            if (Interlocked.Increment(ref _count) > _capacity)
            {
                _snapshots.Clear();
                Interlocked.Exchange(ref _count, 0);
            }
        }
        else
        {
            _snapshots[memberId] = snapshot;
        }
    }

    public void Remove(string memberId)
    {
        if (_snapshots.TryRemove(memberId, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }
}
