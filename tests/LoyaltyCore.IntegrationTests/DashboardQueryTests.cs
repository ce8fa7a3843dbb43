using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// A real Prometheus scrapes a real server under traffic of every kind, with the alert rules loaded; every query of
/// both Grafana dashboards is then evaluated through its HTTP API and must answer with data. In the metrics collection:
/// the KPI gauges are per process.
/// </summary>
[Collection(nameof(GroupCommitTests))]
public sealed partial class DashboardQueryTests
{
    private static readonly string Root = RepositoryRoot();

    /// <summary>A program with one of each mechanic the dashboards chart: budgeted campaign, objective, reward, membership, referral.</summary>
    private static string TourProgram(string version) => Programs.Document(version, """
        "memberships": [ { "id": "plus", "name": "Plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 } ],
        "campaigns": [ { "id": "winter", "name": "Winter", "budget": 100000, "rules": [ { "id": "winter-bonus", "type": "bonus", "points": 10 } ] } ],
        "objectives": [ { "id": "ca-n1", "name": "Last year's revenue", "steps": [ { "percent": 100, "points": 100 } ] } ],
        "referral": { "referrerPoints": 50, "refereePoints": 20, "minimumSpend": 1000 },
        "rewards": [ { "id": "coffee", "name": "Coffee", "cost": 20, "stock": 100 } ]
        """).Replace("\"threshold\": 50000", "\"threshold\": 5000", StringComparison.Ordinal);

    [Fact]
    public async Task Every_dashboard_query_answers_with_data_from_a_real_prometheus_scraping_a_server_under_traffic()
    {
        await using var server = await ServerInstance.StartAsync(KpiTests.Exporting(), ownLedger: true);
        await using var prometheus = await PrometheusProcess.StartAsync(server.MetricsPort, Path.Combine(Root, "deploy", "prometheus", "rules"));
        await Programs.PublishActiveSinceAsync(server, TourProgram(Programs.Version()), DateTimeOffset.UtcNow.AddDays(-400));
        await TrafficOfEveryKindAsync(server);

        // The KPI gauges refresh every second and Prometheus scrapes every second: a few scrapes see everything.
        await KpiTests.WaitForGaugeAsync(server, "loyalty_kpi_rewards_claimed{reward=\"coffee\",window=\"1d\"}", 1);
        await Task.Delay(TimeSpan.FromSeconds(4));

        var queries = Dashboards().SelectMany(d => d.Queries.Select(q => (d.File, Query: q))).Distinct().ToList();
        var failures = new List<string>();
        foreach (var (file, query) in queries)
        {
            var (ok, answer) = await prometheus.QueryAsync(query);
            if (!ok)
            {
                failures.Add($"{file}: {query}\n  -> {answer}");
            }
        }

        var rules = await prometheus.RuleHealthAsync();

        Assert.True(queries.Count >= 60, $"only {queries.Count} queries found");
        Assert.True(failures.Count == 0, $"{failures.Count} of {queries.Count} dashboard queries failed or returned nothing:\n" + string.Join('\n', failures));
        Assert.True(rules.Count > 0, "no rule was loaded");
        Assert.All(rules, rule => Assert.True(rule.Health == "ok", $"rule {rule.Name}: {rule.Health} {rule.Error}"));
    }

    /// <summary>Every query of every dashboard, with Grafana's variables given the values a user would pick.</summary>
    internal static IEnumerable<(string File, List<string> Queries)> Dashboards()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "deploy", "grafana", "dashboards"), "*.json"))
        {
            using var document = JsonDocument.Parse(File.ReadAllText(file));
            var queries = new List<string>();
            Collect(document.RootElement, queries);
            yield return (Path.GetFileName(file), queries.Select(q => q
                .Replace("$__rate_interval", "1m", StringComparison.Ordinal)
                .Replace("$__interval", "1m", StringComparison.Ordinal)
                .Replace("$__range", "5m", StringComparison.Ordinal)
                .Replace("$interval", "1m", StringComparison.Ordinal)
                .Replace("$instance", ".*", StringComparison.Ordinal)
                .Replace("$currency", "EUR", StringComparison.Ordinal)).ToList());
        }
    }

    [Fact]
    public void The_dashboards_use_only_the_variables_they_define_and_never_sum_the_ledger_backed_gauges()
    {
        var dashboards = Dashboards().ToList();

        Assert.Equal(["operations.json", "program-kpis.json"], dashboards.Select(d => d.File).Order(StringComparer.Ordinal));
        foreach (var (file, queries) in dashboards)
        {
            Assert.All(queries, q => Assert.DoesNotMatch(Variable(), q));
            // Every server exports the same KPI values: a sum across servers would multiply them.
            Assert.All(queries, q => Assert.DoesNotMatch(SummedKpi(), q));
            Assert.All(queries, q => Assert.DoesNotContain("/ 100", q, StringComparison.Ordinal));
        }
    }

    private static void Collect(JsonElement element, List<string> queries)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "expr" && property.Value.ValueKind == JsonValueKind.String)
                    {
                        queries.Add(property.Value.GetString()!);
                    }
                    else
                    {
                        Collect(property.Value, queries);
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    Collect(item, queries);
                }

                break;
        }
    }

    private static async Task TrafficOfEveryKindAsync(ServerInstance server)
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var now = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow);

        // A purchase a year ago (year over year), and a reference revenue this year's purchase reaches: the objective's step.
        await server.Scoring.ScoreAsync(Requests.Score(members[0], occurredAt: DateTimeOffset.UtcNow.AddYears(-1).AddDays(-2)));
        await server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = members[0], ReferenceRevenueMinor = 4_000 });
        var purchase = Requests.Score(members[0]);
        await server.Scoring.ScoreAsync(purchase);
        await server.Scoring.ScoreAsync(purchase); // a replay
        var web = Requests.Score(members[1]);
        web.Channel = Channel.Web;
        await server.Scoring.ScoreAsync(web);
        await server.Scoring.ScoreAsync(Requests.Score(members[1]));
        await server.Scoring.RedeemAsync(Requests.Redeem(members[1], 10));
        await server.Scoring.RedeemRewardAsync(new RedeemRewardRequest
        {
            TransactionId = Ids.Transaction(), MemberId = members[0], RewardId = "coffee", StoreId = "store-042", Channel = Channel.Store, OccurredAt = now,
        });
        await server.Scoring.ReturnAsync(new ReturnRequest
        {
            TransactionId = Ids.Transaction(), MemberId = members[1], PurchaseTransactionId = web.TransactionId, StoreId = "store-042",
            Channel = Channel.Store, OccurredAt = now,
        });
        await server.Members.PurchaseMembershipAsync(new PurchaseMembershipRequest { TransactionId = Ids.Transaction(), MemberId = members[2], MembershipId = "plus", OccurredAt = now });
        var referred = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = referred, ReferrerMemberId = members[3] });
        await server.Scoring.ScoreAsync(Requests.Score(referred));
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Scoring.ScoreAsync(Requests.Score(Ids.Member())).ResponseAsync);
        using (var stream = server.Scoring.ScoreStream())
        {
            await stream.RequestStream.WriteAsync(Requests.Score(members[3]));
            await stream.RequestStream.CompleteAsync();
            while (await stream.ResponseStream.MoveNext())
            {
            }
        }

        var partner = await TestPartner.CreateAsync(server);
        await partner.Client.CreateOfferAsync(new CreateOfferRequest
        {
            Offer = new Offer
            {
                OfferId = "museum", Title = "Museum pass", StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
                EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(30)), PointsPerUnit = 2, PerMinor = 100, BudgetPoints = 100_000,
            },
        });
        await server.Members.ListOffersAsync(new ListMemberOffersRequest { MemberId = members[2] });
        await server.Members.ActivateOfferAsync(new ActivateOfferRequest { TransactionId = Ids.Transaction(), MemberId = members[2], PartnerId = partner.PartnerId, OfferId = "museum", OccurredAt = now });
        await partner.Client.ReportConversionAsync(new ReportConversionRequest
        {
            ConversionId = "c-" + Guid.NewGuid().ToString("N")[..16], MemberId = members[2], OfferId = "museum", SpendMinor = 12_345, OccurredAt = now,
        });
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LoyaltyCore.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (LoyaltyCore.sln) was not found.");
    }

    [GeneratedRegex(@"\$(?!__rate_interval)[A-Za-z_]+")]
    private static partial Regex Variable();

    [GeneratedRegex(@"sum[^()]*\(\s*(max without[^()]*\()?\s*loyalty_(kpi_|points_outstanding)")]
    private static partial Regex SummedKpi();
}

/// <summary>A Prometheus server from the machine's packages, scraping one target every second, on a port of its own.</summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _directory;
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, DirectoryInfo directory, int port)
    {
        _process = process;
        _directory = directory;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
    }

    public static async Task<PrometheusProcess> StartAsync(int metricsPort, string rulesDirectory)
    {
        var binary = Environment.GetEnvironmentVariable("LOYALTY_TEST_PROMETHEUS") is { Length: > 0 } configured ? configured : "prometheus";
        var directory = Directory.CreateTempSubdirectory("loyaltycore-prometheus-");
        var config = Path.Combine(directory.FullName, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
              evaluation_interval: 1s
            rule_files:
              - {Path.Combine(rulesDirectory, "*.yml")}
            scrape_configs:
              - job_name: loyaltycore
                static_configs:
                  - targets: ["127.0.0.1:{metricsPort}"]
            """);
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var start = new ProcessStartInfo(binary)
        {
            ArgumentList =
            {
                $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(directory.FullName, "data")}",
                $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => output.AppendLine(e.Data);
        process.OutputDataReceived += (_, e) => output.AppendLine(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var prometheus = new PrometheusProcess(process, directory, port);
        for (var attempt = 0; attempt < 300; attempt++)
        {
            if (process.HasExited)
            {
                break;
            }

            if (await prometheus.QueryAsync("up{job=\"loyaltycore\"} == 1") is (true, _))
            {
                return prometheus;
            }

            await Task.Delay(100);
        }

        await prometheus.DisposeAsync();
        throw new InvalidOperationException("Prometheus did not start scraping the server:\n" + output);
    }

    /// <summary>An instant query: whether it succeeded with at least one result, and the answer.</summary>
    public async Task<(bool Ok, string Answer)> QueryAsync(string query)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(query), UriKind.Relative));
            var body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                // Starting up ("Service Unavailable"), or an error the body explains.
                return (false, $"{(int)response.StatusCode}: {body}");
            }

            using var json = JsonDocument.Parse(body);
            var ok = json.RootElement.GetProperty("status").GetString() == "success"
                && json.RootElement.GetProperty("data").GetProperty("result") is { ValueKind: JsonValueKind.Array } result
                && result.GetArrayLength() > 0;
            return (ok, body);
        }
        catch (HttpRequestException ex)
        {
            return (false, ex.Message);
        }
    }

    /// <summary>Every loaded rule's name, health and last evaluation error.</summary>
    public async Task<IReadOnlyList<(string Name, string Health, string Error)>> RuleHealthAsync()
    {
        using var json = JsonDocument.Parse(await _http.GetStringAsync(new Uri("api/v1/rules", UriKind.Relative)));
        return json.RootElement.GetProperty("data").GetProperty("groups").EnumerateArray()
            .SelectMany(g => g.GetProperty("rules").EnumerateArray())
            .Select(r => (r.GetProperty("name").GetString()!, r.GetProperty("health").GetString()!, r.TryGetProperty("lastError", out var e) ? e.GetString() ?? string.Empty : string.Empty))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Delete(recursive: true);
    }
}
