namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// Everything about a member that scoring depends on. <see cref="Counters"/> are the engine's own running totals
/// (points today, purchases this month, campaign points...), named by <see cref="CounterKeys"/>; the hot state stores
/// them opaquely and applies the deltas each evaluation returns.
/// </summary>
public sealed class MemberState
{
    private static readonly IReadOnlyDictionary<string, long> NoCounters = new Dictionary<string, long>();

    public long Balance { get; init; }

    public long LifetimeSpendMinor { get; init; }

    /// <summary>The stored tier id; empty for a member never scored.</summary>
    public string Tier { get; init; } = string.Empty;

    public long Purchases { get; init; }

    public DateTimeOffset EnrolledAt { get; init; }

    public IReadOnlyList<string> Segments { get; init; } = [];

    /// <summary>The paid membership held, if any; it counts only until <see cref="MembershipExpiresAt"/>.</summary>
    public string? Membership { get; init; }

    public DateTimeOffset MembershipExpiresAt { get; init; }

    /// <summary>The reference revenue objectives are measured against (for example last year's), in minor units.</summary>
    public long ReferenceRevenueMinor { get; init; }

    /// <summary>A tier set by hand: the member is never below it up to <see cref="TierFloorUntil"/>.</summary>
    public string? TierFloor { get; init; }

    /// <summary>The last local day (yyyymmdd) the floor holds.</summary>
    public int TierFloorUntil { get; init; }

    /// <summary>The member's birthday as <c>MM-DD</c> (the year is not kept), or null.</summary>
    public string? Birthday { get; init; }

    /// <summary>The member who referred this one, if any.</summary>
    public string? ReferredBy { get; init; }

    public IReadOnlyDictionary<string, long> Counters { get; init; } = NoCounters;

    public long Counter(string key) => Counters.TryGetValue(key, out var value) ? value : 0;

    /// <summary>Points the member's open holds reserve.</summary>
    public long HeldPoints => Counter(CounterKeys.HeldPoints);

    /// <summary>What the member may spend: the balance less the points held (below zero only after a forced debit).</summary>
    public long AvailablePoints => Balance - HeldPoints;

    /// <summary>The same member with another balance (what a change of points leaves, before it is applied).</summary>
    public MemberState WithBalance(long balance) => With(balance, Counters);

    /// <summary>The same member with another balance and other counters.</summary>
    public MemberState With(long balance, IReadOnlyDictionary<string, long> counters) => new()
    {
        Balance = balance,
        LifetimeSpendMinor = LifetimeSpendMinor,
        Tier = Tier,
        Purchases = Purchases,
        EnrolledAt = EnrolledAt,
        Segments = Segments,
        Membership = Membership,
        MembershipExpiresAt = MembershipExpiresAt,
        ReferenceRevenueMinor = ReferenceRevenueMinor,
        TierFloor = TierFloor,
        TierFloorUntil = TierFloorUntil,
        Birthday = Birthday,
        ReferredBy = ReferredBy,
        Counters = counters,
    };

    public bool HasSegment(string segment)
    {
        var segments = Segments;
        for (var i = 0; i < segments.Count; i++)
        {
            if (string.Equals(segments[i], segment, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    public bool HasMembershipAt(string membership, DateTimeOffset at) =>
        string.Equals(Membership, membership, StringComparison.Ordinal) && MembershipExpiresAt > at;
}
