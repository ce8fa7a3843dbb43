using System.Collections.Concurrent;
using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.HotState;

/// <summary>
/// Snapshots that descend, prediction by prediction, from one state read from Redis. When a transaction predicted
/// on it is not applied as predicted, every later prediction built on it is wrong too, and the whole line is refuted.
/// </summary>
internal sealed class SnapshotLineage
{
    private volatile bool _refuted;

    public bool IsRefuted => _refuted;

    public void Refute() => _refuted = true;
}

/// <summary>A member's state as a transaction may be evaluated against it: read from Redis, or predicted.</summary>
internal sealed class CachedSnapshot(MemberSnapshot snapshot, SnapshotLineage lineage)
{
    public MemberSnapshot Snapshot { get; } = snapshot;

    public SnapshotLineage Lineage { get; } = lineage;
}

/// <summary>
/// The state each member will have once the transactions sent for them are applied, so that scoring a warm member
/// needs a single Lua round trip and the next transaction of the same member need not wait for the previous one's
/// reply. Each entry is either a state read from Redis or one predicted from it: the previous entry with a sent
/// transaction's changes, under the version that transaction will write. A wrong entry is harmless: the script
/// refuses a write whose expected version Redis does not hold, and answers with the current state.
/// </summary>
internal sealed class SnapshotCache(IOptions<HotStateOptions> options)
{
    private readonly ConcurrentDictionary<string, CachedSnapshot> _snapshots = new(StringComparer.Ordinal);
    private readonly int _capacity = options.Value.SnapshotCacheCapacity;
    private int _count;

    /// <summary>The member's latest state, unless its line was refuted.</summary>
    public CachedSnapshot? Get(string memberId) =>
        _snapshots.TryGetValue(memberId, out var cached) && !cached.Lineage.IsRefuted ? cached : null;

    /// <summary>Keeps a state just read from (or written to) Redis, starting a new line.</summary>
    public void Set(string memberId, MemberSnapshot snapshot) => Store(memberId, new CachedSnapshot(snapshot, new SnapshotLineage()));

    /// <summary>Keeps the state a transaction sent on <paramref name="basis"/> will leave, for the next one to build on.</summary>
    public void Predict(string memberId, CachedSnapshot basis, MemberSnapshot predicted) =>
        Store(memberId, new CachedSnapshot(predicted, basis.Lineage));

    /// <summary>
    /// A transaction sent on <paramref name="basis"/> was not applied as predicted: refutes that line and keeps
    /// <paramref name="observed"/> (the state Redis answered with, if any) unless a newer line has taken over.
    /// </summary>
    public void Refute(string memberId, CachedSnapshot basis, MemberSnapshot? observed)
    {
        basis.Lineage.Refute();
        Observe(memberId, observed);
    }

    /// <summary>Keeps a state Redis answered with, unless the member has a current line (which would be newer).</summary>
    public void Observe(string memberId, MemberSnapshot? observed)
    {
        if (!_snapshots.TryGetValue(memberId, out var current))
        {
            if (observed is not null)
            {
                Set(memberId, observed);
            }

            return;
        }

        if (!current.Lineage.IsRefuted)
        {
            return;
        }

        if (observed is null)
        {
            if (_snapshots.TryRemove(KeyValuePair.Create(memberId, current)))
            {
                Interlocked.Decrement(ref _count);
            }
        }
        else
        {
            _snapshots.TryUpdate(memberId, new CachedSnapshot(observed, new SnapshotLineage()), current);
        }
    }

    public void Remove(string memberId)
    {
        if (_snapshots.TryRemove(memberId, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    private void Store(string memberId, CachedSnapshot cached)
    {
        if (_capacity == 0)
        {
            return;
        }

        if (_snapshots.TryAdd(memberId, cached))
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
            _snapshots[memberId] = cached;
        }
    }
}
