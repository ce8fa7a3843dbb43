using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Server.Api;

internal static class Progress
{
    public static LoyaltyCore.Contracts.V1.TierProgress? ToMessage(LoyaltyProgram program, Engine.Tiers.TierProgress? progress)
    {
        if (progress is not { } p)
        {
            return null;
        }

        var spend = program.TierPolicy.Metric == QualificationMetric.Spend;
        return new LoyaltyCore.Contracts.V1.TierProgress
        {
            NextTier = p.NextTier.Id,
            Metric = spend ? "spend" : "points",
            QualifyingValue = p.QualifyingValue,
            Remaining = p.Remaining,
            SpendToNextTierMinor = spend ? p.Remaining : 0,
        };
    }
}
