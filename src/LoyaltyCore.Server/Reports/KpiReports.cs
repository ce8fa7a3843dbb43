using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Kpis;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Kpis;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Reports;

/// <summary>
/// Builds the KPI report of a period from the rollups, after bringing them up to every row committed so far, with the
/// two figures the rollups cannot give read from the ledger itself (members active in a past period, enrolments).
/// </summary>
internal sealed class KpiReports(KpiRollups rollups, KpiStore store, ProgramProvider programs, TimeProvider time, IOptions<KpiOptions> options)
{
    /// <summary>The longest period a report covers.</summary>
    public const int MaxDays = 3660;

    public async Task<KpiReport> BuildAsync(DateOnly from, DateOnly to, Comparison compare, CancellationToken cancellationToken)
    {
        await rollups.CatchUpAsync(wait: true, maxPages: int.MaxValue, cancellationToken);
        var now = time.GetUtcNow();
        var program = programs.Current;
        var report = new KpiReport
        {
            ProgramId = program.Id,
            ProgramVersion = program.Version,
            Currency = program.Currency,
            CurrencyExponent = program.CurrencyExponent,
            GeneratedAt = Timestamp.FromDateTimeOffset(now),
            Current = await PeriodAsync(program, from, to, cancellationToken),
        };
        if (compare == Comparison.PreviousYear)
        {
            report.PreviousYear = await PeriodAsync(program, from.AddYears(-1), to.AddYears(-1), cancellationToken);
        }

        var tiers = await store.TiersAsync(cancellationToken);
        var counted = tiers.Sum(t => t.Members);
        report.Tiers.AddRange(tiers.Select(t => new TierMembers { Tier = t.Tier, Members = t.Members, Share = KpiMath.Ratio(t.Members, counted) }));

        var (since7, since30, since90, since365) = Recency.Days(DateOnly.FromDateTime(now.UtcDateTime));
        var members = await store.MemberCountsAsync(since7, since30, since90, since365, cancellationToken);
        report.Recency.AddRange(Recency.Buckets(members).Select(b => new RecencyBucket { Since = b.Since, Members = b.Members }));

        report.PointsOutstanding = await store.PointsOutstandingAsync(cancellationToken);
        if (options.Value.PointCostPerThousandMinor is { } cost)
        {
            report.LiabilityMinor = KpiMath.PointsCostMinor(report.PointsOutstanding, cost);
        }

        report.RollupLagSeconds = (long)Math.Ceiling(await rollups.LagSecondsAsync(now, cancellationToken));
        return report;
    }

    public static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<PeriodKpis> PeriodAsync(LoyaltyProgram program, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var fromKey = ExpiryPolicy.DayKey(from);
        var toKey = ExpiryPolicy.DayKey(to);
        var fromMs = new DateTimeOffset(from.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds();
        var endMs = new DateTimeOffset(to.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeMilliseconds();
        var totals = PeriodTotals.Of(await store.DailyAsync(fromKey, toKey, cancellationToken), fromKey, toKey);
        var rules = await store.RulesAsync(fromKey, toKey, cancellationToken);
        var (newMembers, enrolled) = await store.EnrolmentAsync(fromMs, endMs, cancellationToken);
        var active = await store.PurchasersAsync(PointFlows.PurchaseKind, fromMs, endMs, cancellationToken);
        var days = to.DayNumber - from.DayNumber + 1;

        var period = new PeriodKpis
        {
            From = Day(from),
            To = Day(to),
            Days = days,
            MembersEnrolled = enrolled,
            MembersNew = newMembers,
            MembersActive = active,
            PointsIssued = totals.Issued,
            PointsRedeemed = totals.Redeemed,
            PointsExpired = totals.Expired,
            PointsReturned = totals.Returned,
            PointsDebitedOther = totals.OtherDebits,
            RevenueMinor = totals.RevenueMinor,
            Orders = totals.Orders,
            RevenuePerActiveMemberMinor = KpiMath.PerMinor(totals.RevenueMinor, active),
            OrdersPerActiveMember = KpiMath.Ratio(totals.Orders, active),
            RedemptionRate = totals.RedemptionRate,
            RunningCostMinor = KpiMath.RunningCostMinor(settings.RunningCostPerMonthMinor, days),
        };
        if (settings.PointCostPerThousandMinor is { } cost)
        {
            period.PointsCostMinor = KpiMath.PointsCostMinor(totals.Issued, cost);
            period.ProgramCostMinor = period.PointsCostMinor + period.RunningCostMinor;
            period.Generosity = KpiMath.Ratio(period.PointsCostMinor, totals.RevenueMinor);
            if (period.ProgramCostMinor > 0)
            {
                period.Roi = KpiMath.Ratio(totals.RevenueMinor - period.ProgramCostMinor, period.ProgramCostMinor);
            }
        }

        foreach (var (channel, sums) in totals.Channels)
        {
            period.Channels.Add(new ChannelKpis
            {
                Channel = ChannelLabels.Of((Channel)channel),
                Orders = sums.Orders,
                RevenueMinor = sums.RevenueMinor,
                Share = KpiMath.Ratio(sums.Orders, totals.Orders),
            });
        }

        period.Rewards.AddRange(rules.Where(r => r.Kind == (int)EntryKind.Reward)
            .GroupBy(r => r.RuleId, StringComparer.Ordinal)
            .Select(g => new RewardClaims { RewardId = g.Key, Claims = g.Sum(r => r.Entries), Points = -g.Sum(r => r.Points) })
            .OrderByDescending(r => r.Claims).ThenBy(r => r.RewardId, StringComparer.Ordinal));

        var offers = new SortedDictionary<(string, string), OfferUptake>();
        foreach (var row in rules.Where(r => r.Kind is (int)EntryKind.OfferActivation or (int)EntryKind.PartnerAward))
        {
            if (PointFlows.Offer(row.RuleId) is not { } offer)
            {
                continue;
            }

            if (!offers.TryGetValue(offer, out var uptake))
            {
                uptake = new OfferUptake { PartnerId = offer.Partner, OfferId = offer.Offer };
                offers.Add(offer, uptake);
            }

            if (row.Kind == (int)EntryKind.OfferActivation)
            {
                uptake.Activations += row.Entries;
            }
            else
            {
                uptake.Conversions += row.Entries;
                uptake.Points += row.Points;
            }
        }

        period.Offers.AddRange(offers.Values);

        foreach (var objective in program.Objectives)
        {
            foreach (var step in objective.Steps)
            {
                var reached = rules.Where(r => r.Kind == PointFlows.PurchaseKind && r.RuleId == step.RuleId && r.Entries > 0).OrderBy(r => r.Day).ToList();
                period.ObjectiveSteps.Add(new ObjectiveStepReached
                {
                    ObjectiveId = objective.Id,
                    RuleId = step.RuleId,
                    Percent = step.Percent,
                    Reached = reached.Sum(r => r.Entries),
                    FirstDay = reached.Count > 0 ? Day(ExpiryPolicy.Day((int)reached[0].Day)) : string.Empty,
                    LastDay = reached.Count > 0 ? Day(ExpiryPolicy.Day((int)reached[^1].Day)) : string.Empty,
                });
            }
        }

        return period;
    }
}
