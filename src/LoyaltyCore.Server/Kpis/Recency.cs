using LoyaltyCore.Engine.Points;
using LoyaltyCore.Server.Ledger;

namespace LoyaltyCore.Server.Kpis;

/// <summary>Members by days since their last purchase, in the buckets the gauges and the report both use.</summary>
internal static class Recency
{
    /// <summary>The day keys from which a member counts as active over the last 7, 30, 90 and 365 days.</summary>
    public static (int Since7, int Since30, int Since90, int Since365) Days(DateOnly today) =>
        (Since(today, 7), Since(today, 30), Since(today, 90), Since(today, 365));

    /// <summary>The first day of the last <paramref name="days"/> days, today included.</summary>
    public static int Since(DateOnly today, int days) => ExpiryPolicy.DayKey(today.AddDays(1 - days));

    public static IReadOnlyList<(string Since, long Members)> Buckets(KpiMemberCounts members) =>
    [
        ("0-7d", members.Active7),
        ("8-30d", members.Active30 - members.Active7),
        ("31-90d", members.Active90 - members.Active30),
        ("91-365d", members.Active365 - members.Active90),
        ("over-365d", members.WithPurchase - members.Active365),
    ];
}
