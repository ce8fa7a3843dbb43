using System.Globalization;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Points in lots, their expiry and the expiry run, through the real API, Redis and PostgreSQL.</summary>
public sealed class ExpiryTests : IAsyncLifetime
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(s => s["Expiry:RunEnabled"] = "false", ownLedger: true);
        await PublishAsync(""" "expiry": { "months": 12 } """);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    // Active since long enough that purchases dated back (to 80 days) are scored by it, not by the version before.
    private Task<string> PublishAsync(string sections) =>
        Programs.PublishActiveSinceAsync(_server, Programs.Document(Programs.Version(), sections), DateTimeOffset.UtcNow.AddDays(-100));

    private static DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, Paris).DateTime);

    private static string Text(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private Task<ExpiryRunSummary> RunAsync(DateOnly asOf, ServerInstance? on = null) =>
        (on ?? _server).Get<PointExpiryRun>().RunAsync(ExpiryPolicy.DayKey(asOf), null, CancellationToken.None);

    private async Task<(string Member, DateOnly OldDay, DateOnly NewDay)> TwoLotsAsync()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var old = DateTimeOffset.UtcNow.AddDays(-60);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: old));
        await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        return (memberId, DayOf(old), DayOf(DateTimeOffset.UtcNow));
    }

    private async Task<string> HoldAsync(string memberId, long points)
    {
        var hold = new AuthorizeRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, Points = points, StoreId = "store-042", Channel = Channel.Store,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        await _server.Scoring.AuthorizeAsync(hold);
        return hold.TransactionId;
    }

    private async Task ReleaseAsync(string memberId, string holdId) =>
        await _server.Scoring.VoidAsync(new VoidRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, HoldId = holdId,
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });

    private async Task<ListLotsResponse> LotsAsync(string memberId) =>
        await _server.Members.ListLotsAsync(new ListLotsRequest { MemberId = memberId });

    private static void AssertBalanceIsTheSumOfLots(ListLotsResponse lots) =>
        Assert.Equal(lots.Balance, lots.Lots.Sum(l => l.Points) + lots.UnlottedPoints + lots.OwedPoints);

    [Fact]
    public async Task A_purchase_opens_a_lot_that_the_answer_getmember_and_listlots_show()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var today = DayOf(DateTimeOffset.UtcNow);

        var scored = await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        var lots = await LotsAsync(memberId);

        Assert.Equal((45L, Text(today.AddMonths(12))), (scored.NextExpiry.Points, scored.NextExpiry.ExpiresOn));
        Assert.Equal(scored.NextExpiry, member.NextExpiry);
        var lot = Assert.Single(lots.Lots);
        Assert.Equal((Text(today), Text(today.AddMonths(12)), 45L, false), (lot.EarnedOn, lot.ExpiresOn, lot.Points, lot.ExtendsOnActivity));
        Assert.Equal((45L, 0L, 0L), (lots.Balance, lots.UnlottedPoints, lots.OwedPoints));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Spending_takes_the_oldest_lot_first_and_a_return_takes_its_own_purchase_lots()
    {
        var (memberId, oldDay, newDay) = await TwoLotsAsync();
        var newest = Requests.Score(memberId, lines: Requests.Line("tv", 1, 3_000));
        await _server.Scoring.ScoreAsync(newest);

        await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 30));
        var afterRedeem = await LotsAsync(memberId);
        await _server.Scoring.ReturnAsync(new ReturnRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, PurchaseTransactionId = newest.TransactionId, StoreId = "store-042",
            Channel = Channel.Store, OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
        var afterReturn = await LotsAsync(memberId);

        // 45 from 60 days ago, 45 + 30 today: the redemption of 30 takes from the old lot.
        Assert.Equal([(Text(oldDay), 15L), (Text(newDay), 75L)], afterRedeem.Lots.Select(l => (l.EarnedOn, l.Points)));
        // The return of today's 30-point purchase takes today's lot, not the older one.
        Assert.Equal([(Text(oldDay), 15L), (Text(newDay), 45L)], afterReturn.Lots.Select(l => (l.EarnedOn, l.Points)));
        AssertBalanceIsTheSumOfLots(afterRedeem);
        AssertBalanceIsTheSumOfLots(afterReturn);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task The_expiry_run_expires_due_lots_once_whichever_servers_run_it_and_however_often()
    {
        await using var other = await ServerInstance.StartAsync(s =>
        {
            s["Expiry:RunEnabled"] = "false";
            s["Ledger:ConnectionString"] = _server.LedgerConnectionString;
        });
        var (memberId, oldDay, newDay) = await TwoLotsAsync();
        var due = oldDay.AddMonths(12);
        var metricsBefore = await MetricSamples.ScrapeAsync(_server);

        var runs = await Task.WhenAll(RunAsync(due), RunAsync(due, other));
        var again = await RunAsync(due, other);
        var dayAfter = await RunAsync(due.AddDays(1));

        Assert.Equal(45, runs.Sum(r => r.Points));
        Assert.True(again.AlreadyFinished);
        Assert.Equal(0, dayAfter.Points);
        var lots = await LotsAsync(memberId);
        Assert.Equal([(Text(newDay), 45L)], lots.Lots.Select(l => (l.EarnedOn, l.Points)));
        Assert.Equal(45, lots.Balance);
        var history = await _server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Expiry } });
        var row = Assert.Single(history.Transactions);
        Assert.Equal(("expiry:" + Text(due), -45L, 45L, "expiry"), (row.TransactionId, row.Points, row.BalanceAfter, string.Join(',', row.RuleIds)));
        Assert.Equal(45, (await MetricSamples.ScrapeAsync(_server)).Since(metricsBefore, "loyalty_points_expired_total"));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);

        // The member's other lot expires on its own day, in its own row.
        Assert.Equal(45, (await RunAsync(newDay.AddMonths(12))).Points);
        Assert.Equal(0, (await LotsAsync(memberId)).Balance);
    }

    [Fact]
    public async Task A_run_stopped_half_way_resumes_after_the_last_member_it_finished()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(_server)));
        var old = DateTimeOffset.UtcNow.AddDays(-80);
        foreach (var memberId in members)
        {
            await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: old));
        }

        var due = DayOf(old).AddMonths(12);
        var sorted = members.Order(StringComparer.Ordinal).ToArray();
        // As a crash after the first member would leave it: the mark past it (its lots are left, so a run that went
        // back to it would expire them).
        var mark = (await _server.Get<Server.Ledger.LedgerStore>().NextLotDayAsync(0, ExpiryPolicy.DayKey(due), CancellationToken.None))!.Value;
        await _server.Get<Server.Ledger.LedgerStore>().StartExpiryRunAsync(ExpiryPolicy.DayKey(due), CancellationToken.None);
        await _server.Get<Server.Ledger.LedgerStore>().AdvanceExpiryRunAsync(ExpiryPolicy.DayKey(due), mark, sorted[0], CancellationToken.None);

        var resumed = await RunAsync(due);

        Assert.Equal(2, resumed.Members);
        Assert.Equal(90, resumed.Points);
        Assert.Equal(45, (await LotsAsync(sorted[0])).Balance);
        Assert.Equal(0, (await LotsAsync(sorted[1])).Balance);
        Assert.Equal(0, (await LotsAsync(sorted[2])).Balance);
    }

    [Fact]
    public async Task Points_all_held_are_spared_and_marked_again_every_day_until_they_can_expire()
    {
        var (memberId, oldDay, _) = await TwoLotsAsync();
        var holdId = await HoldAsync(memberId, 90);
        var due = oldDay.AddMonths(12);

        // Ten daily runs while every point is held, so the day the lot was marked falls out of the lookback (7 days).
        var held = new List<long>();
        for (var day = 0; day < 10; day++)
        {
            held.Add((await RunAsync(due.AddDays(day))).Points);
        }

        await ReleaseAsync(memberId, holdId);
        var released = await RunAsync(due.AddDays(10));

        Assert.All(held, points => Assert.Equal(0, points));
        Assert.Equal(45, released.Points);
        var rows = (await _server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Expiry }, PageSize = 100 })).Transactions;
        Assert.Equal(11, rows.Count);
        Assert.Equal(-45, rows.Sum(r => r.Points));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_server_whose_cached_state_is_stale_still_expires_a_lot_another_server_added()
    {
        await using var other = await ServerInstance.StartAsync(s =>
        {
            s["Expiry:RunEnabled"] = "false";
            s["Ledger:ConnectionString"] = _server.LedgerConnectionString;
        });
        await PublishAsync(""" "expiry": { "endOf": "month" } """);
        await other.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        // This server caches the member with a lot that is not due yet...
        await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        // ...while the other scores a purchase uploaded late, whose lot is already due.
        await other.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: DateTimeOffset.UtcNow.AddDays(-45)));

        var run = await RunAsync(DayOf(DateTimeOffset.UtcNow));

        Assert.Equal(45, run.Points);
        Assert.Equal(45, (await LotsAsync(memberId)).Balance);
    }

    [Fact]
    public async Task Points_held_by_an_open_hold_are_spared_and_expire_the_next_day_once_released()
    {
        var (memberId, oldDay, _) = await TwoLotsAsync();
        var holdId = await HoldAsync(memberId, 80);
        var due = oldDay.AddMonths(12);

        var first = await RunAsync(due);
        await ReleaseAsync(memberId, holdId);
        var next = await RunAsync(due.AddDays(1));

        // 90 points, 80 held: 10 of the 45 due can expire; the other 35 once the hold is gone.
        Assert.Equal(10, first.Points);
        Assert.Equal(35, next.Points);
        Assert.Equal(45, (await LotsAsync(memberId)).Balance);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Under_a_policy_that_activity_extends_a_purchase_pushes_every_lot_out()
    {
        await PublishAsync(""" "expiry": { "months": 12, "extendOnActivity": true } """);
        var (memberId, oldDay, newDay) = await TwoLotsAsync();

        var lots = await LotsAsync(memberId);
        var expired = await RunAsync(oldDay.AddMonths(12));

        Assert.All(lots.Lots, l => Assert.True(l.ExtendsOnActivity));
        Assert.All(lots.Lots, l => Assert.Equal(Text(newDay.AddMonths(12)), l.ExpiresOn));
        Assert.Equal(0, expired.Points);
        Assert.Equal(90, (await RunAsync(newDay.AddMonths(12))).Points);
    }

    [Fact]
    public async Task A_policy_change_applies_only_to_points_earned_after_it()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var today = DayOf(DateTimeOffset.UtcNow);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """ "expiry": { "endOf": "month" } """));
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 3_000)));

        var lots = await LotsAsync(memberId);
        var endOfMonth = new DateOnly(today.Year, today.Month, 1).AddMonths(1);
        var expired = await RunAsync(endOfMonth);

        Assert.Equal([(Text(today.AddMonths(12)), 45L), (Text(endOfMonth), 30L)], lots.Lots.Select(l => (l.ExpiresOn, l.Points)).OrderByDescending(l => l.Points));
        Assert.Equal(30, expired.Points);
        Assert.Equal([(Text(today.AddMonths(12)), 45L)], (await LotsAsync(memberId)).Lots.Select(l => (l.ExpiresOn, l.Points)));
    }

    [Fact]
    public async Task A_purchase_uploaded_after_its_lot_fell_due_is_expired_by_the_next_run()
    {
        await using var server = await ServerInstance.StartAsync(s =>
        {
            s["Expiry:RunEnabled"] = "false";
            s["Expiry:LookbackDays"] = "1";
        }, ownLedger: true);
        await Programs.PublishActiveSinceAsync(server, Programs.Document(Programs.Version(), """ "expiry": { "endOf": "month" } """), DateTimeOffset.UtcNow.AddDays(-100));
        var today = DayOf(DateTimeOffset.UtcNow);
        var run = server.Get<PointExpiryRun>();
        Assert.Equal(0, (await run.RunAsync(ExpiryPolicy.DayKey(today.AddDays(-1)), null, CancellationToken.None)).Points);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);

        // Bought 45 days ago, uploaded now: its lot expired at the end of that month, before yesterday's finished run.
        await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: DateTimeOffset.UtcNow.AddDays(-45)));
        var expired = await run.RunAsync(ExpiryPolicy.DayKey(today), null, CancellationToken.None);

        Assert.Equal(45, expired.Points);
        Assert.Equal(0, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
    }

    [Fact]
    public async Task Lots_of_a_member_not_enrolled_are_not_found()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Members.ListLotsAsync(new ListLotsRequest { MemberId = Ids.Member() }).ResponseAsync);
        await RpcAssert.RejectsField("member_id", () => _server.Members.ListLotsAsync(new ListLotsRequest { MemberId = "bad id" }).ResponseAsync);
    }
}
