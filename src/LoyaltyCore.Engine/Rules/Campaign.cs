using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Rules;

/// <summary>
/// A time-boxed operation: its rules apply only inside its window, stores, channels and segments. Its points are
/// limited per member (<see cref="PerMemberCap"/>) and in total (<see cref="Budget"/>, enforced by the hot state).
/// </summary>
public sealed class Campaign(string id, string name, int index, Condition scope, long? budget, long? perMemberCap)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    /// <summary>Position in the program, for per-evaluation bookkeeping without lookups.</summary>
    public int Index { get; } = index;

    public long? Budget { get; } = budget;

    public long? PerMemberCap { get; } = perMemberCap;

    public bool IsLive(Evaluation evaluation) => scope.Matches(evaluation);
}

/// <summary>Bonus steps when year-to-date spend reaches a share of the member's reference revenue; each step once a year.</summary>
public sealed class Objective(string id, string name, ObjectiveStep[] steps)
{
    public string Id { get; } = id;

    public string Name { get; } = name;

    public IReadOnlyList<ObjectiveStep> Steps { get; } = steps;
}

/// <summary>The price of a membership for members holding <see cref="Segment"/>.</summary>
public sealed record SegmentPrice(string Segment, long PriceMinor);

public sealed record ObjectiveStep(int Percent, long Points, string RuleId, string Reason);

/// <summary>A bought membership: how long it lasts, what it costs and what it multiplies.</summary>
/// <param name="PriceMinor">The standard price.</param>
public sealed record MembershipPlan(string Id, string Name, long PriceMinor, int DurationDays, int MultiplierBasisPoints)
{
    public string RuleId { get; } = "membership:" + Id;

    /// <summary>Prices for members holding a segment (students, military), in document order.</summary>
    public IReadOnlyList<SegmentPrice> SegmentPrices { get; init; } = [];

    /// <summary>
    /// The lowest price the member is eligible for, and the segment that gives it (null for the standard price).
    /// On a tie the standard price wins, then the earlier segment price, so the answer never depends on set order.
    /// </summary>
    public (long PriceMinor, string? Segment) PriceFor(IReadOnlyList<string> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var best = (PriceMinor, (string?)null);
        foreach (var price in SegmentPrices)
        {
            if (price.PriceMinor < best.PriceMinor && segments.Contains(price.Segment, StringComparer.Ordinal))
            {
                best = (price.PriceMinor, price.Segment);
            }
        }

        return best;
    }

    public string Reason { get; } = $"{Name} membership x{(MultiplierBasisPoints / 10_000m).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>Rewards for a referred member's first purchase of at least <see cref="MinimumSpendMinor"/>.</summary>
public sealed record ReferralPolicy(long ReferrerPoints, long RefereePoints, long MinimumSpendMinor);

public sealed record Caps(long? PerTransaction, long? PerMemberPerDay);
