using System.Globalization;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Rewards;

namespace LoyaltyCore.Server.Api;

/// <summary>Lots, expiries and nudges as the protos carry them.</summary>
internal static class PointMessages
{
    /// <summary>A yyyymmdd day as YYYY-MM-DD; empty for 0 (never).</summary>
    public static string Day(int dayKey) =>
        dayKey == 0 ? string.Empty : ExpiryPolicy.Day(dayKey).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static NextExpiry? NextExpiry((long Points, int ExpiresOn)? next) =>
        next is { } n ? new NextExpiry { Points = n.Points, ExpiresOn = Day(n.ExpiresOn) } : null;

    public static RewardNudge? Nudge((Reward Reward, long PointsNeeded)? nudge) =>
        nudge is { } n ? new RewardNudge { RewardId = n.Reward.Id, Name = n.Reward.Name, Cost = n.Reward.Cost, PointsNeeded = n.PointsNeeded } : null;
}
