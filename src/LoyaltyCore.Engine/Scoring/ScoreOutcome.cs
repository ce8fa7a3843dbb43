using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Scoring;

public readonly record struct BreakdownLine(string RuleId, long Points, string Reason);

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
