using System.Diagnostics;
using System.Globalization;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The report as an ops command: every format, and the HTML page as a browser draws it.</summary>
public sealed class ReportCommandTests
{
    [Fact]
    public async Task The_report_command_writes_each_format_and_chromium_draws_the_html_reports_charts()
    {
        await using var server = await ServerInstance.StartAsync(s => s["Scoring:MaxBackdate"] = "400.00:00:00", ownLedger: true);
        await Programs.PublishActiveSinceAsync(server, Programs.Document(Programs.Version()), DateTimeOffset.UtcNow.AddDays(-400));
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        foreach (var memberId in members)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId));
            await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: DateTimeOffset.UtcNow.AddYears(-1).AddHours(-1)));
        }

        await server.Scoring.RedeemAsync(Requests.Redeem(members[0], 20));
        var environment = new Dictionary<string, string>
        {
            ["HotState__Redis"] = TestEnvironment.Redis,
            ["Ledger__Provider"] = "Postgres",
            ["Ledger__ConnectionString"] = server.LedgerConnectionString,
            ["Kpi__PointCostPerThousandMinor"] = "5",
            ["Security__Clients__0__Id"] = "ops",
            ["Security__Clients__0__Key"] = "ops-key-0123456789abcdef",
            ["Security__Clients__0__Roles__0"] = "admin",
        };
        var directory = Directory.CreateTempSubdirectory("loyaltycore-report-");
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string[] period = ["report", "--from", KpiTests.Day(today.AddDays(-6)), "--to", KpiTests.Day(today), "--compare", "previous-year"];
        var outputs = new Dictionary<string, string>();
        foreach (var format in new[] { "md", "csv", "json", "html" })
        {
            var path = Path.Combine(directory.FullName, "kpi." + format);
            var (exitCode, output) = await ServerProcess.RunAsync(environment, [.. period, "--format", format, "--out", path]);
            Assert.True(exitCode == 0, output);
            outputs[format] = await File.ReadAllTextAsync(path);
        }

        var (badCode, bad) = await ServerProcess.RunAsync(environment, "report", "--from", "yesterday", "--to", KpiTests.Day(today), "--format", "pdf");

        var json = KpiReport.Parser.WithDiscardUnknownFields(false).ParseJson(outputs["json"]);
        Assert.Equal((3L, 3L, 20L), (json.Current.Orders, json.PreviousYear.Orders, json.Current.PointsRedeemed));
        Assert.Contains("| Orders | 3 | 3 | 0.0% |", outputs["md"], StringComparison.Ordinal);
        Assert.Contains($"| Revenue (EUR) | 135.60 | 135.60 | 0.0% |", outputs["md"], StringComparison.Ordinal);
        Assert.StartsWith("section,item,measure,current,previous_year\n", outputs["csv"], StringComparison.Ordinal);
        Assert.Contains("kpi,Points redeemed,value,20,0\n", outputs["csv"], StringComparison.Ordinal);
        Assert.Contains("Orders by channel,store,Orders,3,\n", outputs["csv"], StringComparison.Ordinal);
        Assert.Equal(2, badCode);
        Assert.Contains("report: --from must be a day as YYYY-MM-DD", bad, StringComparison.Ordinal);
        Assert.Contains("report: --format must be md, csv, json or html", bad, StringComparison.Ordinal);

        // Self-contained: nothing fetched from anywhere.
        var html = outputs["html"];
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);
        Assert.DoesNotContain("href=", html, StringComparison.Ordinal);
        foreach (var chart in new[] { "id=\"tiers\"", "id=\"points-flow\"", "id=\"yoy\"" })
        {
            Assert.Contains(chart, html, StringComparison.Ordinal);
        }

        var screenshot = await ScreenshotAsync(Path.Combine(directory.FullName, "kpi.html"), directory.FullName);
        // Each chart's bars are drawn, in its own colour, as wide as its figures make them.
        Assert.True(screenshot.Count(Server.Reports.SvgCharts.TierColour) > 2_000, "tier bars");
        Assert.True(screenshot.Count(Server.Reports.SvgCharts.FlowColour) > 2_000, "points flow bars");
        Assert.True(screenshot.Count(Server.Reports.SvgCharts.CurrentColour) > 2_000, "this period's bars");
        Assert.True(screenshot.Count(Server.Reports.SvgCharts.PreviousColour) > 2_000, "last year's bars");
        directory.Delete(recursive: true);
    }

    private static async Task<Png> ScreenshotAsync(string page, string directory)
    {
        var chromium = Environment.GetEnvironmentVariable("LOYALTY_TEST_CHROMIUM") is { Length: > 0 } configured ? configured : "chromium";
        var shot = Path.Combine(directory, "shot.png");
        var start = new ProcessStartInfo(chromium)
        {
            ArgumentList =
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--force-color-profile=srgb",
                $"--user-data-dir={Path.Combine(directory, "profile")}", "--window-size=1000,2200", $"--screenshot={shot}",
                new Uri(page).AbsoluteUri,
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(File.Exists(shot), "Chromium wrote no screenshot: " + await stderr);
        return Png.Read(await File.ReadAllBytesAsync(shot));
    }
}
