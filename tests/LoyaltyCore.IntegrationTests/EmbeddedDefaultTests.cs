using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The no-configuration default: in-process Garnet and a SQLite ledger, through the same code paths.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task The_embedded_default_scores_replays_redeems_and_refuses_overdraft()
    {
        await using var embedded = await EmbeddedServer.StartAsync();
        var server = embedded.Server;
        var memberId = Ids.Member();
        Assert.True((await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId })).Created);

        var request = Requests.Score(memberId, lines: Requests.Line("tv", 1, 50_000));
        var scored = await server.Scoring.ScoreAsync(request);
        var replayed = await server.Scoring.ScoreAsync(request);
        Assert.Equal(500, scored.Balance);
        Assert.Equal("silver", scored.Tier);
        Assert.True(replayed.Replayed);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            try
            {
                await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 30));
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return false;
            }
        }));
        Assert.Equal(16, concurrent.Count(ok => ok));

        var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        Assert.Equal(20, member.Balance);
        Assert.Equal("silver", member.Tier);

        // The KPI rollups follow the SQLite ledger by rowid: the report counts each row once.
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var report = await new ReportService.ReportServiceClient(server.CreateChannel(ServerInstance.AdminKey))
            .GetKpiReportAsync(new GetKpiReportRequest { From = KpiTests.Day(today.AddDays(-1)), To = KpiTests.Day(today) });
        var again = await new ReportService.ReportServiceClient(server.CreateChannel(ServerInstance.AdminKey))
            .GetKpiReportAsync(new GetKpiReportRequest { From = KpiTests.Day(today.AddDays(-1)), To = KpiTests.Day(today) });
        Assert.Equal((1L, 500L, 480L, 1L), (report.Current.Orders, report.Current.PointsIssued, report.Current.PointsRedeemed, report.Current.MembersActive));
        Assert.Equal((20L, "silver"), (report.PointsOutstanding, report.Tiers.Single().Tier));
        Assert.Equal(report.Current, again.Current);
    }

    [Fact]
    public async Task The_embedded_default_keeps_lots_expires_them_once_and_claims_rewards_from_stock()
    {
        await using var embedded = await EmbeddedServer.StartAsync(settings => settings["Expiry:RunEnabled"] = "false");
        var server = embedded.Server;
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), """
            "expiry": { "months": 12 },
            "rewards": [ { "id": "mug", "name": "Mug", "cost": 20, "stock": 1 } ]
            """));
        var memberId = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        await server.Scoring.ScoreAsync(Requests.Score(memberId));
        await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 3_000)));

        var claim = new RedeemRewardRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, RewardId = "mug", StoreId = "store-042", Channel = Channel.Store,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        Assert.Equal(55, (await server.Scoring.RedeemRewardAsync(claim)).Balance);
        var second = claim.Clone();
        second.TransactionId = Ids.Transaction();
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => server.Scoring.RedeemRewardAsync(second).ResponseAsync);

        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var due = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, paris).DateTime).AddMonths(12);
        var lots = await server.Members.ListLotsAsync(new ListLotsRequest { MemberId = memberId });
        var run = server.Get<Server.Transactions.PointExpiryRun>();
        var expired = await run.RunAsync(Engine.Points.ExpiryPolicy.DayKey(due), null, CancellationToken.None);
        var rerun = await run.RunAsync(Engine.Points.ExpiryPolicy.DayKey(due), null, CancellationToken.None);

        // 45 + 30 earned today in one lot, 20 of them spent on the mug: the 55 left expire in a year, once.
        Assert.Equal((55L, 55L), (lots.Balance, Assert.Single(lots.Lots).Points));
        Assert.Equal(55, expired.Points);
        Assert.True(rerun.AlreadyFinished);
        Assert.Empty((await server.Members.ListLotsAsync(new ListLotsRequest { MemberId = memberId })).Lots);
    }

    [Fact]
    public async Task The_embedded_default_adjusts_points_and_pages_the_history_filtered_by_kind_and_time()
    {
        await using var embedded = await EmbeddedServer.StartAsync();
        var server = embedded.Server;
        var support = new SupportService.SupportServiceClient(server.CreateChannel(ServerInstance.SupportKey));
        var memberId = Ids.Member();
        var now = DateTimeOffset.UtcNow;
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        for (var i = 0; i < 3; i++)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId, $"e-{i}", now.AddHours(i - 5), Requests.Line("tv", 1, 10_000)));
        }

        var forced = await support.AdjustPointsAsync(AdjustmentTests.Adjustment(memberId, -500, AdjustmentReason.Fraud, force: true));
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => support.AdjustPointsAsync(AdjustmentTests.Adjustment(memberId, -1, AdjustmentReason.Correction)).ResponseAsync);
        var first = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 2 });
        var second = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 2, PageToken = first.NextPageToken });
        var purchases = await server.Members.ListTransactionsAsync(new ListTransactionsRequest
        {
            MemberId = memberId, Kinds = { TransactionKind.Purchase }, From = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(now.AddHours(-4)),
        });

        Assert.Equal((-200L, true), (forced.Balance, forced.Forced));
        Assert.Equal([forced.TransactionId, "e-2"], first.Transactions.Select(t => t.TransactionId));
        Assert.Equal(["e-1", "e-0"], second.Transactions.Select(t => t.TransactionId));
        Assert.Empty(second.NextPageToken);
        Assert.Equal(["e-2", "e-1"], purchases.Transactions.Select(t => t.TransactionId));
        Assert.Equal(-200, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
    }

    [Fact]
    public async Task The_embedded_default_holds_captures_voids_and_expires_holds()
    {
        var clock = new ShiftableClock();
        await using var embedded = await EmbeddedServer.StartAsync(settings => settings["Holds:ExpiryRunEnabled"] = "false", clock: clock);
        var server = embedded.Server;
        var memberId = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 10_000)));

        var captured = await server.Scoring.AuthorizeAsync(HoldTests.Authorize(memberId, 30));
        var voided = await server.Scoring.AuthorizeAsync(HoldTests.Authorize(memberId, 20));
        await server.Scoring.AuthorizeAsync(HoldTests.Authorize(memberId, 40, lifetimeSeconds: 1));
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => server.Scoring.RedeemAsync(Requests.Redeem(memberId, 11)).ResponseAsync);
        var capture = await server.Scoring.CaptureAsync(HoldTests.Capture(memberId, captured.HoldId, 25));
        var release = await server.Scoring.VoidAsync(HoldTests.Void(memberId, voided.HoldId));
        clock.Advance(TimeSpan.FromSeconds(2));
        var released = await server.Get<Server.Transactions.HoldExpiryRun>().RunAsync(clock.GetUtcNow(), CancellationToken.None);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Scoring.VoidAsync(HoldTests.Void(memberId, "never-held")).ResponseAsync);

        var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        Assert.Equal((75L, 5L), (capture.Balance, capture.PointsReleased));
        Assert.Equal(20, release.PointsReleased);
        Assert.Equal(1, released);
        Assert.Equal((75L, 75L), (member.Balance, member.AvailablePoints));
        Assert.Empty(member.Holds);
    }
}

/// <summary>A server on the embedded default (in-process Garnet, a SQLite ledger in a directory of its own), removed with it.</summary>
internal sealed class EmbeddedServer : IAsyncDisposable
{
    private readonly DirectoryInfo _directory;

    private EmbeddedServer(DirectoryInfo directory, ServerInstance server)
    {
        _directory = directory;
        Server = server;
    }

    public ServerInstance Server { get; }

    public static async Task<EmbeddedServer> StartAsync(Action<Dictionary<string, string?>>? configure = null, TimeProvider? clock = null)
    {
        var directory = Directory.CreateTempSubdirectory("loyaltycore-embedded-");
        var server = await ServerInstance.StartAsync(settings =>
        {
            settings["HotState:Redis"] = string.Empty;
            settings["Ledger:Provider"] = "Sqlite";
            settings["Ledger:ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "ledger.db")}";
            configure?.Invoke(settings);
        }, clock: clock);
        return new EmbeddedServer(directory, server);
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Delete(recursive: true);
    }
}
