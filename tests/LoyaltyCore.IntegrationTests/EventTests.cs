using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>MemberService.RecordEvent through the real API, with the guarantees of every transaction kind.</summary>
public sealed class EventTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "caps": { "perMemberPerDay": 1000 },
            "events": ["store_checkin", "metric_probe"],
            "rules": [
              { "id": "newsletter", "name": "Newsletter welcome", "type": "event", "event": "newsletter_subscribed", "points": 100,
                "limit": { "count": 1 } },
              { "id": "review", "name": "Review thanks", "type": "event", "event": "review_posted", "points": 20,
                "limit": { "count": 2, "period": "day" } },
              { "id": "checkin", "type": "event", "event": "store_checkin", "points": 400 },
              { "id": "probe", "type": "event", "event": "metric_probe", "points": 7 }
            ]
            """));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static RecordEventRequest Event(string memberId, string name, string? transactionId = null) => new()
    {
        TransactionId = transactionId ?? Ids.Transaction(),
        MemberId = memberId,
        Event = name,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    [Fact]
    public async Task An_event_earns_its_rule_points_once_and_a_retry_replays_the_original_answer()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var request = Event(memberId, "newsletter_subscribed");
        request.Attributes.Add("list", "weekly");

        var first = await _server.Members.RecordEventAsync(request);
        var retried = await _server.Members.RecordEventAsync(request);
        var second = await _server.Members.RecordEventAsync(Event(memberId, "newsletter_subscribed"));

        Assert.Equal(100, first.PointsEarned);
        Assert.Equal([("newsletter", 100L, "Newsletter welcome")], first.Breakdown.Select(b => (b.RuleId, b.Points, b.Reason)));
        Assert.Equal(100, first.Balance);
        Assert.Equal("weekly", first.Attributes["list"]);
        Assert.False(first.Replayed);
        Assert.True(retried.Replayed);
        Assert.Equal(first.PointsEarned, retried.PointsEarned);
        Assert.Equal(first.Balance, retried.Balance);
        // Once per member: the second subscription is recorded and earns nothing.
        Assert.Equal(0, second.PointsEarned);
        Assert.Empty(second.Breakdown);
        Assert.Equal(2, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Equal(100, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Recorded_events_and_their_points_are_counted_by_event_once_per_transaction()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var request = Event(memberId, "metric_probe");
        var before = await MetricSamples.ScrapeAsync(_server);

        await _server.Members.RecordEventAsync(request);
        await _server.Members.RecordEventAsync(request);
        var after = await MetricSamples.ScrapeAsync(_server);

        // Only this test records metric_probe, so the deltas are exact; the retry is not counted again.
        Assert.Equal(1, after.Since(before, "loyalty_events_recorded_total{event=\"metric_probe\"}"));
        Assert.Equal(7, after.Since(before, "loyalty_event_points_issued_total{event=\"metric_probe\"}"));
    }

    [Fact]
    public async Task Events_share_the_daily_cap_with_purchases()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 80_000)));
        var checkin = await _server.Members.RecordEventAsync(Event(memberId, "store_checkin"));

        Assert.Equal(800, purchase.PointsEarned);
        Assert.Equal(200, checkin.PointsEarned);
        Assert.Contains("daily cap", checkin.Breakdown[0].Reason, StringComparison.Ordinal);
        Assert.Equal(1_000, checkin.Balance);
    }

    [Fact]
    public async Task Redis_rebuilt_from_the_ledger_holds_what_the_events_made_it()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Members.RecordEventAsync(Event(memberId, "newsletter_subscribed"));
        await _server.Members.RecordEventAsync(Event(memberId, "review_posted"));
        await _server.Members.RecordEventAsync(Event(memberId, "review_posted"));
        await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        var before = await HotState.StateAsync(memberId);

        await HotState.ForgetMemberAsync(memberId);
        Assert.True(await _server.Get<MemberDirectory>().RebuildAsync(memberId, _server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None));
        var after = await HotState.StateAsync(memberId);
        var third = await _server.Members.RecordEventAsync(Event(memberId, "review_posted"));

        Assert.Contains(("k.e:newsletter", "1"), before);
        Assert.Contains(before, f => f.Field.StartsWith("k.ed:", StringComparison.Ordinal) && f.Value == "2");
        Assert.Equal(before, after);
        // The rebuilt day counter still says two reviews today: the limit holds across the rebuild.
        Assert.Equal(0, third.PointsEarned);
        Assert.Equal(await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString), await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Concurrent_events_for_one_member_never_exceed_the_limit()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => _server.Members.RecordEventAsync(Event(memberId, "review_posted")).ResponseAsync));

        Assert.Equal(2, answers.Count(a => a.PointsEarned == 20));
        Assert.Equal(40, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(40, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task The_same_transaction_id_with_another_event_is_refused()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var transactionId = Ids.Transaction();
        await _server.Members.RecordEventAsync(Event(memberId, "review_posted", transactionId));

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _server.Members.RecordEventAsync(Event(memberId, "newsletter_subscribed", transactionId)).ResponseAsync);
    }

    [Fact]
    public async Task Bad_events_are_refused_and_change_nothing()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var undeclared = Event(memberId, "store_visit");
        var badAttribute = Event(memberId, "review_posted");
        badAttribute.Attributes.Add("review", new string('x', 257));
        var noTransaction = Event(memberId, "review_posted", transactionId: string.Empty);

        var violation = await RpcAssert.RejectsField("event", () => _server.Members.RecordEventAsync(undeclared).ResponseAsync);
        await RpcAssert.RejectsField("attributes[review]", () => _server.Members.RecordEventAsync(badAttribute).ResponseAsync);
        await RpcAssert.RejectsField("transaction_id", () => _server.Members.RecordEventAsync(noTransaction).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Members.RecordEventAsync(Event(Ids.Member(), "review_posted")).ResponseAsync);

        Assert.Contains("store_checkin", violation.FieldViolations[0].Description, StringComparison.Ordinal);
        Assert.Equal(0, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Equal(0, await HotState.BalanceAsync(memberId));
    }
}
