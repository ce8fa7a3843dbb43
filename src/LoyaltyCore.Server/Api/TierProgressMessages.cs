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

        var metric = program.TierPolicy.Metric;
        var spend = metric == QualificationMetric.Spend;
        return new LoyaltyCore.Contracts.V1.TierProgress
        {
            NextTier = p.NextTier.Id,
            Metric = metric switch { QualificationMetric.Spend => "spend", QualificationMetric.Points => "points", _ => "balance" },
            QualifyingValue = p.QualifyingValue,
            Remaining = p.Remaining,
            SpendToNextTierMinor = spend ? p.Remaining : 0,
        };
    }
}
