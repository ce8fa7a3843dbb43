using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>One award of a transaction, after caps.</summary>
/// <param name="Lines">
/// For an award on the basket's lines (base earn, tier, membership and line multipliers): the points each line it acted
/// on earned, in line order, adding up to <paramref name="Points"/>. Null for an award on the basket as a whole.
/// </param>
/// <param name="RequiredSpendMinor">
/// The eligible spend of the basket the award needed (its rule's <c>minimumSpend</c> on the basket, the
/// <c>basketTotalAtLeast</c> its condition names, the base rate's minimum spend), so a return can tell when what
/// remains no longer qualifies; for an award on the basket as a whole, at least 1.
/// </param>
/// <param name="RequiredLinesSpendMinor">For a multiplier on some lines with a <c>minimumSpend</c>: the spend of its own lines it needed.</param>
/// <param name="CampaignId">The campaign the award came from, if any.</param>
/// <param name="RequiredCounter">
/// Set when what the award needed is a member counter rather than the basket's spend (an objective step: the year's
/// spend, <c>k.y:yyyy</c>, at least <paramref name="RequiredSpendMinor"/>).
/// </param>
/// <remarks>An award with neither lines nor a requirement (an upgrade bonus) stands whatever is returned.</remarks>
public readonly record struct BreakdownLine(
    string RuleId, long Points, string Reason, LineShare[]? Lines = null, long RequiredSpendMinor = 0, string? CampaignId = null, string? RequiredCounter = null,
    long RequiredLinesSpendMinor = 0)
{
    // By value, the shares included: two evaluations of the same purchase give equal lines.
    public bool Equals(BreakdownLine other) =>
        RuleId == other.RuleId && Points == other.Points && Reason == other.Reason && RequiredSpendMinor == other.RequiredSpendMinor
        && CampaignId == other.CampaignId && RequiredCounter == other.RequiredCounter && RequiredLinesSpendMinor == other.RequiredLinesSpendMinor
        && (Lines ?? []).AsSpan().SequenceEqual(other.Lines ?? []);

    public override int GetHashCode() => HashCode.Combine(RuleId, Points, Reason, RequiredSpendMinor, CampaignId, RequiredCounter, Lines?.Length ?? -1);
}

/// <summary>The points one basket line (by index) earned from one award.</summary>
public readonly record struct LineShare(int Line, long Points);

public readonly record struct CampaignAward(string CampaignId, long Points);

/// <summary>Points the referrer earns because of this purchase, credited to them as a transaction of its own.</summary>
public readonly record struct ReferrerReward(string ReferrerId, long Points);

/// <summary>
/// What a purchase earns and what it changes (<see cref="PointsReset"/>: points a tier review applied by this
/// transaction took from the balance before it). Counter deltas and sets are what the hot state must apply atomically
/// with the points; <see cref="CampaignAwards"/> is what must be drawn from campaign budgets.
/// </summary>
public sealed record ScoreOutcome(
    long PointsEarned,
    IReadOnlyList<BreakdownLine> Breakdown,
    long SpendMinor,
    long EligibleSpendMinor,
    Tier TierBefore,
    Tier TierAfter,
    TierProgress? Progress,
    IReadOnlyList<KeyValuePair<string, long>> CounterDeltas,
    IReadOnlyList<KeyValuePair<string, long>> CounterSets,
    IReadOnlyList<string> StaleCounters,
    IReadOnlyList<CampaignAward> CampaignAwards,
    ReferrerReward? ReferrerReward,
    long PointsReset = 0)
{
    /// <summary>What the transaction does to the balance: the points earned, less what a review reset took.</summary>
    public long BalanceDelta => PointsEarned - PointsReset;

    public bool TierChanged => !ReferenceEquals(TierBefore, TierAfter);
}
