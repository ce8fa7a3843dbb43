using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Scoring;

public readonly record struct BreakdownLine(string RuleId, long Points, string Reason);

/// <summary>What a purchase earns and what it does to the member's standing. Computed, never stored as-is.</summary>
public sealed record ScoreOutcome(
    long PointsEarned,
    IReadOnlyList<BreakdownLine> Breakdown,
    long SpendMinor,
    Tier TierBefore,
    Tier TierAfter,
    TierProgress? Progress)
{
    public bool TierChanged => !ReferenceEquals(TierBefore, TierAfter);
}
