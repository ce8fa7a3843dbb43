using System.Globalization;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// The ledger-backed KPIs: rollups that count every committed row exactly once whichever servers sum them, the
/// report over a period and the year before, and the gauges. In the metrics collection: the gauges are per process.
/// </summary>
[Collection(nameof(GroupCommitTests))]
public sealed class KpiTests
{
    private static readonly DateOnly Today = DateOnly.FromDateTime(DateTime.UtcNow);

    internal static Action<Dictionary<string, string?>> Exporting(string? ledger = null) => s =>
    {
        s["Kpi:ExportEnabled"] = "true";
        s["Kpi:RefreshInterval"] = "00:00:01";
        s["Kpi:RollupPageSize"] = "100";
        s["Kpi:PointCostPerThousandMinor"] = "5";
        s["Kpi:RunningCostPerMonthMinor"] = "36500";
        s["Scoring:MaxBackdate"] = "400.00:00:00";
        if (ledger is not null)
        {
            s["Ledger:ConnectionString"] = ledger;
        }
    };

    [Fact]
    public async Task Two_servers_summing_the_rollups_under_traffic_count_every_ledger_row_exactly_once()
    {
        await using var a = await ServerInstance.StartAsync(Exporting(), ownLedger: true);
        await using var b = await ServerInstance.StartAsync(Exporting(a.LedgerConnectionString));
        var members = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => IdempotencyTests.EnrolledMemberAsync(a)));

        // Both servers take traffic and both roll up every second (page size 100), so passes overlap and interleave
        // with commits of every kind.
        await Task.WhenAll(members.Select(async (memberId, i) =>
        {
            var server = i % 2 == 0 ? a : b;
            for (var n = 0; n < 40; n++)
            {
                var request = Requests.Score(memberId);
                await server.Scoring.ScoreAsync(request);
                if (n % 10 == 0)
                {
                    await (i % 2 == 0 ? b : a).Scoring.ScoreAsync(request); // a retry on the other server: a replay
                    await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 7));
                }
            }
        }));

        var ledger = await Ledger.TotalsAsync(a.LedgerConnectionString);
        (long Rows, long Points, long Members) rollups = default;
        for (var attempt = 0; attempt < 100 && rollups != ledger; attempt++)
        {
            await Task.Delay(100);
            rollups = await Ledger.RollupTotalsAsync(a.LedgerConnectionString);
        }

        Assert.Equal(6 * (40 + 4), ledger.Rows);
        Assert.Equal(ledger, rollups);
    }

    [Fact]
    public async Task The_report_gives_the_periods_kpis_against_the_same_days_a_year_earlier()
    {
        await using var a = await ServerInstance.StartAsync(Exporting(), ownLedger: true);
        await using var b = await ServerInstance.StartAsync(Exporting(a.LedgerConnectionString));
        await Programs.PublishActiveSinceAsync(a, Programs.Document(Programs.Version()), DateTimeOffset.UtcNow.AddDays(-400));
        await b.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(a)));
        foreach (var memberId in members)
        {
            for (var n = 0; n < 4; n++)
            {
                await (n % 2 == 0 ? a : b).Scoring.ScoreAsync(Requests.Score(memberId));
            }
        }

        var web = Requests.Score(members[1]);
        web.Channel = Channel.Web;
        await a.Scoring.ScoreAsync(web);
        Assert.True((await b.Scoring.ScoreAsync(web)).Replayed);
        await a.Scoring.RedeemAsync(Requests.Redeem(members[0], 5));
        var yearAgo = DateTimeOffset.UtcNow.AddYears(-1).AddHours(-1);
        await a.Scoring.ScoreAsync(Requests.Score(members[2], occurredAt: yearAgo));
        await b.Scoring.ScoreAsync(Requests.Score(members[2], occurredAt: yearAgo));

        var reports = new ReportService.ReportServiceClient(b.CreateChannel(ServerInstance.AdminKey));
        var report = await reports.GetKpiReportAsync(new GetKpiReportRequest
        {
            From = Day(Today.AddDays(-6)),
            To = Day(Today),
            Compare = Comparison.PreviousYear,
        });

        var current = report.Current;
        Assert.Equal(("EUR", 2, 7), (report.Currency, report.CurrencyExponent, current.Days));
        Assert.Equal(13, current.Orders);
        Assert.Equal(13 * 4_520, current.RevenueMinor);
        Assert.Equal(13 * 45, current.PointsIssued);
        Assert.Equal(5, current.PointsRedeemed);
        Assert.Equal(3, current.MembersActive);
        Assert.Equal(3, current.MembersNew);
        Assert.Equal(3, current.MembersEnrolled);
        Assert.Equal(KpiRound(13 * 4_520, 3), current.RevenuePerActiveMemberMinor);
        Assert.Equal(13 / 3.0, current.OrdersPerActiveMember, 9);
        Assert.Equal(5 / 585.0, current.RedemptionRate, 9);
        // 585 points at 5 per thousand: 2.925, rounded half away from zero to 3; 36500 a month is 1200 a day.
        Assert.Equal(3, current.PointsCostMinor);
        Assert.Equal(7 * 1_200, current.RunningCostMinor);
        Assert.Equal(3 + (7 * 1_200), current.ProgramCostMinor);
        Assert.Equal(3 / (13.0 * 4_520), current.Generosity, 12);
        Assert.Equal(((13.0 * 4_520) - 8_403) / 8_403, current.Roi, 9);
        var channels = current.Channels.ToDictionary(c => c.Channel, c => (c.Orders, c.RevenueMinor));
        Assert.Equal((12L, 12L * 4_520), channels["store"]);
        Assert.Equal((1L, 4_520L), channels["web"]);
        Assert.Equal(1 / 13.0, current.Channels.Single(c => c.Channel == "web").Share, 9);

        var previous = report.PreviousYear;
        Assert.Equal(Day(Today.AddDays(-6).AddYears(-1)), previous.From);
        Assert.Equal((2, 2 * 4_520, 90, 1), (previous.Orders, previous.RevenueMinor, previous.PointsIssued, previous.MembersActive));
        // Enrolled today: none of them was a member a year ago.
        Assert.Equal(0, previous.MembersEnrolled);

        Assert.Equal(await Ledger.TotalsAsync(a.LedgerConnectionString) is var t ? t.Points : 0, report.PointsOutstanding);
        Assert.Equal(KpiRound(report.PointsOutstanding * 5, 1000), report.LiabilityMinor);
        Assert.Equal(3, report.Tiers.Single(t => t.Tier == "member").Members);
        Assert.Equal(3, report.Recency.Single(r => r.Since == "0-7d").Members);
        Assert.Equal(0, report.RollupLagSeconds);

        // The gauges read the same rollups (every server exports the same values).
        var gauges = await WaitForGaugeAsync(a, "loyalty_kpi_orders{window=\"1d\"}", 13);
        Assert.Equal(3, gauges["loyalty_kpi_members_active{window=\"30d\"}"]);
        Assert.Equal(3, gauges["loyalty_kpi_members_enrolled"]);
        Assert.Equal(1, gauges["loyalty_kpi_transactions{channel=\"web\",window=\"7d\"}"]);
        // The last 365 days, today included: a year ago to the day is the 366th, outside it.
        Assert.Equal(585, gauges["loyalty_kpi_points{flow=\"issued\",window=\"365d\"}"]);
        Assert.Equal(report.PointsOutstanding, gauges["loyalty_points_outstanding"]);
        Assert.Equal(report.LiabilityMinor / 100.0, gauges["loyalty_kpi_liability{currency=\"EUR\"}"], 9);
        Assert.Equal(13 * 45.20, gauges["loyalty_kpi_revenue{currency=\"EUR\",window=\"365d\"}"], 6);
        Assert.Equal(2 * 45.20, gauges["loyalty_kpi_revenue_previous_year{currency=\"EUR\",window=\"30d\"}"], 6);
    }

    [Fact]
    public async Task A_report_request_with_bad_days_is_refused_field_by_field_and_only_admins_may_ask()
    {
        var server = await ServerInstance.Shared;
        var admin = new ReportService.ReportServiceClient(server.CreateChannel(ServerInstance.AdminKey));
        var pos = new ReportService.ReportServiceClient(server.CreateChannel(ServerInstance.PosKey));

        var missing = await RpcAssert.RejectsField("from", () => admin.GetKpiReportAsync(new GetKpiReportRequest { To = "2026-01-31" }).ResponseAsync);
        await RpcAssert.RejectsField("to", () => admin.GetKpiReportAsync(new GetKpiReportRequest { From = "2026-01-01", To = "31/01/2026" }).ResponseAsync);
        await RpcAssert.RejectsField("to", () => admin.GetKpiReportAsync(new GetKpiReportRequest { From = "2026-02-01", To = "2026-01-31" }).ResponseAsync);
        await RpcAssert.RejectsField("to", () => admin.GetKpiReportAsync(new GetKpiReportRequest { From = "2000-01-01", To = "2026-01-31" }).ResponseAsync);
        await RpcAssert.RejectsField("compare", () => admin.GetKpiReportAsync(new GetKpiReportRequest { From = "2026-01-01", To = "2026-01-31", Compare = (Comparison)7 }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => pos.GetKpiReportAsync(new GetKpiReportRequest { From = "2026-01-01", To = "2026-01-31" }).ResponseAsync);

        Assert.Equal("required, a day as YYYY-MM-DD", missing.FieldViolations.Single().Description);

        // The same over HTTP/JSON, for whoever reads KPIs from a script or a BI tool.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HttpPort}/") };
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/reports/kpi?from=2026-01-01&to=2026-01-31&compare=COMPARISON_PREVIOUS_YEAR");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerInstance.AdminKey);
        using var answer = await http.SendAsync(request);
        var body = await answer.Content.ReadAsStringAsync();
        Assert.True(answer.IsSuccessStatusCode, body);
        var report = KpiReport.Parser.ParseJson(body);
        Assert.Equal(("2026-01-01", "2025-01-01", 31), (report.Current.From, report.PreviousYear.From, report.Current.Days));
        using var bad = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "v1/reports/kpi?from=2026-02-01&to=2026-01-01")
        {
            Headers = { Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", ServerInstance.AdminKey) },
        });
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
    }

    internal static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static async Task<MetricSamples> WaitForGaugeAsync(ServerInstance server, string series, double expected)
    {
        var samples = await MetricSamples.ScrapeAsync(server);
        for (var attempt = 0; attempt < 100 && samples[series] != expected; attempt++)
        {
            await Task.Delay(100);
            samples = await MetricSamples.ScrapeAsync(server);
        }

        Assert.Equal(expected, samples[series]);
        return samples;
    }

    private static long KpiRound(long numerator, long denominator) => (long)Math.Round((decimal)numerator / denominator, MidpointRounding.AwayFromZero);
}
