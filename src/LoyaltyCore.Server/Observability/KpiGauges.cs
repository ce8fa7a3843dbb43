using LoyaltyCore.Engine.Kpis;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Kpis;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Observability;

/// <summary>
/// Keeps the ledger-backed KPI gauges (<c>loyalty_kpi_*</c>, <c>loyalty_points_outstanding</c>): each tick brings the
/// rollups up to the ledger (any server may, each row is counted once) and reads the gauges from them. Every server
/// exports the same values, from the same tables, so no leader is needed and losing a server loses no KPI; dashboards
/// take the max across instances.
/// </summary>
internal sealed class KpiGauges(
    KpiRollups rollups,
    KpiStore store,
    ProgramProvider programs,
    LoyaltyMetrics metrics,
    TimeProvider time,
    IOptions<KpiOptions> options,
    ILogger<KpiGauges> logger) : PeriodicRun(time, logger)
{
    /// <summary>The windows the gauges are given over: the last N UTC days, today included.</summary>
    private static readonly (string Label, int Days)[] Windows = [("1d", 1), ("7d", 7), ("30d", 30), ("365d", 365)];

    private static readonly (string Label, int Days)[] ActiveWindows = [("7d", 7), ("30d", 30), ("90d", 90), ("365d", 365)];

    protected override bool Enabled => options.Value.ExportEnabled;

    protected override TimeSpan Interval => options.Value.RefreshInterval;

    protected override string Name => "KPI refresh";

    protected override async Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await rollups.CatchUpAsync(wait: false, maxPages: 20, cancellationToken);
        await RefreshAsync(now, cancellationToken);
    }

    private async Task RefreshAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var program = programs.Current;
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        int Since(int days) => Recency.Since(today, days);
        var todayKey = ExpiryPolicy.DayKey(today);

        // Two years of days: each window, and the same window a year earlier.
        var yearAgo = today.AddYears(-1);
        int SinceYearAgo(int days) => Recency.Since(yearAgo, days);
        var daily = await store.DailyAsync(SinceYearAgo(365), todayKey, cancellationToken);
        var rules = await store.RulesAsync(Since(365), todayKey, cancellationToken);
        var members = await store.MemberCountsAsync(Since(7), Since(30), Since(90), Since(365), cancellationToken);
        var tiers = await store.TiersAsync(cancellationToken);
        var outstanding = await store.PointsOutstandingAsync(cancellationToken);
        var lag = await rollups.LagSecondsAsync(now, cancellationToken);

        metrics.KpiMembersEnrolled.Set(members.Enrolled);
        var active = ActiveWindows.ToDictionary(w => w.Label, w => w.Days switch { 7 => members.Active7, 30 => members.Active30, 90 => members.Active90, _ => members.Active365 });
        LoyaltyMetrics.Publish(metrics.KpiMembersActive, active.Select(a => (new[] { a.Key }, (double)a.Value)));
        LoyaltyMetrics.Publish(metrics.KpiMembersByTier, tiers.Select(t => (new[] { t.Tier }, (double)t.Members)));
        LoyaltyMetrics.Publish(metrics.KpiMembersByRecency, Recency.Buckets(members).Select(b => (new[] { b.Since }, (double)b.Members)));

        metrics.PointsOutstanding.Set(outstanding);
        var currency = program.Currency;
        var exponent = program.CurrencyExponent;
        var cost = settings.PointCostPerThousandMinor;
        LoyaltyMetrics.Publish(metrics.KpiLiability, cost is { } c
            ? [([currency], KpiMath.Major(KpiMath.PointsCostMinor(outstanding, c), exponent))]
            : []);

        var points = new List<(string[], double)>();
        var revenue = new List<(string[], double)>();
        var orders = new List<(string[], double)>();
        var redemption = new List<(string[], double)>();
        var generosity = new List<(string[], double)>();
        var channels = new List<(string[], double)>();
        var perMember = new List<(string[], double)>();
        var revenueYearAgo = new List<(string[], double)>();
        var ordersYearAgo = new List<(string[], double)>();
        var frequency = new List<(string[], double)>();
        foreach (var (window, days) in Windows.Concat([("90d", 90)]))
        {
            var totals = PeriodTotals.Of(daily, Since(days), todayKey);
            if (window != "90d")
            {
                points.Add((["issued", window], totals.Issued));
                points.Add((["redeemed", window], totals.Redeemed));
                points.Add((["expired", window], totals.Expired));
                points.Add((["returned", window], totals.Returned));
                points.Add((["debited_other", window], totals.OtherDebits));
                revenue.Add(([currency, window], KpiMath.Major(totals.RevenueMinor, exponent)));
                orders.Add(([window], totals.Orders));
                var before = PeriodTotals.Of(daily, SinceYearAgo(days), ExpiryPolicy.DayKey(yearAgo));
                revenueYearAgo.Add(([currency, window], KpiMath.Major(before.RevenueMinor, exponent)));
                ordersYearAgo.Add(([window], before.Orders));
                redemption.Add(([window], totals.RedemptionRate));
                if (cost is { } perThousand)
                {
                    generosity.Add(([window], KpiMath.Ratio(KpiMath.PointsCostMinor(totals.Issued, perThousand), totals.RevenueMinor)));
                }

                foreach (var (channel, sums) in totals.Channels)
                {
                    channels.Add(([ChannelLabels.Of((LoyaltyCore.Contracts.V1.Channel)channel), window], sums.Orders));
                }
            }

            if (window is "30d" or "90d")
            {
                var activeInWindow = active[window];
                perMember.Add(([currency, window], KpiMath.Major(KpiMath.PerMinor(totals.RevenueMinor, activeInWindow), exponent)));
                frequency.Add(([window], KpiMath.Ratio(totals.Orders, activeInWindow)));
            }
        }

        LoyaltyMetrics.Publish(metrics.KpiPoints, points);
        LoyaltyMetrics.Publish(metrics.KpiRevenue, revenue);
        LoyaltyMetrics.Publish(metrics.KpiOrders, orders);
        LoyaltyMetrics.Publish(metrics.KpiRevenuePreviousYear, revenueYearAgo);
        LoyaltyMetrics.Publish(metrics.KpiOrdersPreviousYear, ordersYearAgo);
        LoyaltyMetrics.Publish(metrics.KpiRedemptionRate, redemption);
        LoyaltyMetrics.Publish(metrics.KpiGenerosity, generosity);
        LoyaltyMetrics.Publish(metrics.KpiTransactions, channels);
        LoyaltyMetrics.Publish(metrics.KpiRevenuePerActiveMember, perMember);
        LoyaltyMetrics.Publish(metrics.KpiOrdersPerActiveMember, frequency);

        var steps = program.Objectives.SelectMany(o => o.Steps).Select(s => s.RuleId).ToHashSet(StringComparer.Ordinal);
        var stepSeries = new List<(string[], double)>();
        var rewardSeries = new List<(string[], double)>();
        var offerSeries = new List<(string[], double)>();
        foreach (var (window, days) in Windows)
        {
            var since = Since(days);
            var inWindow = rules.Where(r => r.Day >= since).ToList();
            stepSeries.AddRange(ClaimsOf(inWindow.Where(r => r.Kind == PointFlows.PurchaseKind && steps.Contains(r.RuleId)))
                .Select(s => (new[] { s.Key, window }, (double)s.Value)));
            rewardSeries.AddRange(ClaimsOf(inWindow.Where(r => r.Kind == (int)Ledger.Contracts.EntryKind.Reward))
                .Select(s => (new[] { s.Key, window }, (double)s.Value)));
            foreach (var (kind, name) in new[] { ((int)Ledger.Contracts.EntryKind.OfferActivation, "activated"), ((int)Ledger.Contracts.EntryKind.PartnerAward, "converted") })
            {
                foreach (var (rule, count) in ClaimsOf(inWindow.Where(r => r.Kind == kind)))
                {
                    if (PointFlows.Offer(rule) is { } offer)
                    {
                        offerSeries.Add(([offer.Partner, offer.Offer, name, window], count));
                    }
                }
            }
        }

        LoyaltyMetrics.Publish(metrics.KpiObjectiveSteps, stepSeries);
        LoyaltyMetrics.Publish(metrics.KpiRewardsClaimed, rewardSeries);
        LoyaltyMetrics.Publish(metrics.KpiOffers, offerSeries);
        metrics.KpiRollupLag.Set(lag);
        metrics.KpiRefreshed.Set(now.ToUnixTimeMilliseconds() / 1000.0);
    }

    private static IEnumerable<KeyValuePair<string, long>> ClaimsOf(IEnumerable<KpiRuleRow> rows) =>
        rows.GroupBy(r => r.RuleId, StringComparer.Ordinal).Select(g => new KeyValuePair<string, long>(g.Key, g.Sum(r => r.Entries)));
}
