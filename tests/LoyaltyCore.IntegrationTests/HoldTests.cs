using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Two-phase redemption (Authorize, Capture, Void, expiry) through the real API, with every transaction guarantee.</summary>
public sealed class HoldTests : IAsyncLifetime
{
    private readonly ShiftableClock _clock = new();
    private ServerInstance _server = null!;

    public async Task InitializeAsync() =>
        // The expiry run is started by hand here, so that each test decides when it runs.
        _server = await ServerInstance.StartAsync(s => s["Holds:ExpiryRunEnabled"] = "false", ownLedger: true, clock: _clock);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal static AuthorizeRequest Authorize(string memberId, long points, int lifetimeSeconds = 0) => new()
    {
        TransactionId = Ids.Transaction(), MemberId = memberId, Points = points, StoreId = "store-042", Channel = Channel.Store,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow), LifetimeSeconds = lifetimeSeconds,
    };

    internal static CaptureRequest Capture(string memberId, string holdId, long points) => new()
    {
        TransactionId = Ids.Transaction(), MemberId = memberId, HoldId = holdId, Points = points, StoreId = "store-042", Channel = Channel.Store,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    internal static VoidRequest Void(string memberId, string holdId) => new()
    {
        TransactionId = Ids.Transaction(), MemberId = memberId, HoldId = holdId, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    /// <summary>A member with 100 points.</summary>
    private async Task<string> MemberWithPointsAsync()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 10_000)));
        return memberId;
    }

    private Task<Member> MemberAsync(string memberId) => _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId }).ResponseAsync;

    [Fact]
    public async Task A_hold_reserves_points_without_changing_the_balance_and_get_member_shows_it()
    {
        var memberId = await MemberWithPointsAsync();
        var request = Authorize(memberId, 30, lifetimeSeconds: 600);

        var held = await _server.Scoring.AuthorizeAsync(request);
        var member = await MemberAsync(memberId);

        Assert.Equal((request.TransactionId, 30L, 100L, 70L, false), (held.HoldId, held.PointsHeld, held.Balance, held.AvailablePoints, held.Replayed));
        Assert.InRange(held.ExpiresAt.ToDateTimeOffset(), DateTimeOffset.UtcNow.AddSeconds(590), DateTimeOffset.UtcNow.AddSeconds(601));
        Assert.Equal((100L, 70L), (member.Balance, member.AvailablePoints));
        var hold = Assert.Single(member.Holds);
        Assert.Equal((request.TransactionId, 30L, held.ExpiresAt), (hold.HoldId, hold.Points, hold.ExpiresAt));
        Assert.Equal(100, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Held_points_cannot_be_redeemed_or_held_again()
    {
        var memberId = await MemberWithPointsAsync();
        await _server.Scoring.AuthorizeAsync(Authorize(memberId, 80));

        var redeem = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 21)).ResponseAsync);
        var hold = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.AuthorizeAsync(Authorize(memberId, 21)).ResponseAsync);
        var within = await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 20));

        Assert.Contains("balance is 100 with 80 held (20 available), 21 requested", redeem.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("20 available", hold.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(80, within.Balance);
        Assert.Equal(0, (await MemberAsync(memberId)).AvailablePoints);
    }

    [Fact]
    public async Task A_capture_spends_what_it_names_releases_the_rest_and_a_retry_replays_it()
    {
        var memberId = await MemberWithPointsAsync();
        var held = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 60));
        var request = Capture(memberId, held.HoldId, 45);

        var captured = await _server.Scoring.CaptureAsync(request);
        var retried = await _server.Scoring.CaptureAsync(request);
        var member = await MemberAsync(memberId);

        Assert.Equal((45L, 15L, 55L, 55L, false), (captured.PointsCaptured, captured.PointsReleased, captured.Balance, captured.AvailablePoints, captured.Replayed));
        Assert.True(retried.Replayed);
        Assert.Equal(captured.Balance, retried.Balance);
        Assert.Equal((55L, 55L), (member.Balance, member.AvailablePoints));
        Assert.Empty(member.Holds);
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
        Assert.Equal(55, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_void_releases_everything_and_an_ended_hold_cannot_be_captured_or_voided_again()
    {
        var memberId = await MemberWithPointsAsync();
        var held = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 40));
        var request = Void(memberId, held.HoldId);

        var voided = await _server.Scoring.VoidAsync(request);
        var retried = await _server.Scoring.VoidAsync(request);
        var capture = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.CaptureAsync(Capture(memberId, held.HoldId, 1)).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.VoidAsync(Void(memberId, held.HoldId)).ResponseAsync);

        Assert.Equal((40L, 100L, 100L), (voided.PointsReleased, voided.Balance, voided.AvailablePoints));
        Assert.True(retried.Replayed);
        Assert.Contains("already ended", capture.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(100, (await MemberAsync(memberId)).AvailablePoints);
        // Score, hold, void: the refused calls wrote nothing.
        Assert.Equal(3, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_capture_beyond_the_hold_or_of_an_unknown_hold_is_refused_and_changes_nothing()
    {
        var memberId = await MemberWithPointsAsync();
        var held = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 40));
        var purchase = Requests.Score(memberId, lines: Requests.Line("tv", 1, 100));
        await _server.Scoring.ScoreAsync(purchase);
        var before = await HotState.StateAsync(memberId);

        var beyond = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.CaptureAsync(Capture(memberId, held.HoldId, 41)).ResponseAsync);
        var unknown = await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.CaptureAsync(Capture(memberId, "no-such-hold", 1)).ResponseAsync);
        // A purchase's id is not a hold's.
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.VoidAsync(Void(memberId, purchase.TransactionId)).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.VoidAsync(Void(Ids.Member(), held.HoldId)).ResponseAsync);

        Assert.Contains("holds 40 points; 41 cannot be captured", beyond.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("no hold 'no-such-hold'", unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await HotState.StateAsync(memberId));
        Assert.Equal(3, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_hold_whose_rows_are_not_committed_yet_is_ended_not_unknown()
    {
        var memberId = await MemberWithPointsAsync();
        var authorize = Authorize(memberId, 30);
        var firstVoid = Void(memberId, authorize.TransactionId);
        var gate = new CommitGate(_server, authorize.TransactionId, firstVoid.TransactionId);
        // Both applied in Redis, neither in the ledger: the authorization is known only by its pending copy.
        var authorized = _server.Scoring.AuthorizeAsync(authorize).ResponseAsync;
        await gate.UntilHeldAsync(1);
        var voided = _server.Scoring.VoidAsync(firstVoid).ResponseAsync;
        await gate.UntilHeldAsync(2);

        var again = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.VoidAsync(Void(memberId, authorize.TransactionId)).ResponseAsync);
        gate.Open();

        Assert.Contains("already ended", again.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(30, (await voided).PointsReleased);
        Assert.Equal(30, (await authorized).PointsHeld);
    }

    [Fact]
    public async Task Concurrent_holds_and_redemptions_never_take_available_points_below_zero()
    {
        var memberId = await MemberWithPointsAsync();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 16).Select(async i =>
        {
            try
            {
                if (i % 2 == 0)
                {
                    await _server.Scoring.AuthorizeAsync(Authorize(memberId, 15));
                }
                else
                {
                    await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 15));
                }

                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));
        var member = await MemberAsync(memberId);
        var heldTotal = member.Holds.Sum(h => h.Points);

        Assert.Equal(6, outcomes.Count(c => c == StatusCode.OK));
        Assert.All(outcomes, c => Assert.Contains(c, new[] { StatusCode.OK, StatusCode.FailedPrecondition }));
        Assert.Equal(10, member.AvailablePoints);
        Assert.Equal(member.Balance - heldTotal, member.AvailablePoints);
        Assert.Equal(member.Balance, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task An_expired_hold_cannot_be_captured_and_the_expiry_run_releases_it_exactly_once()
    {
        var memberId = await MemberWithPointsAsync();
        var held = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 25, lifetimeSeconds: 1));
        var kept = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 5, lifetimeSeconds: 3600));
        var run = _server.Get<HoldExpiryRun>();
        var early = await run.RunAsync(_clock.GetUtcNow(), CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(2));

        var capture = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.CaptureAsync(Capture(memberId, held.HoldId, 25)).ResponseAsync);
        var first = await run.RunAsync(_clock.GetUtcNow(), CancellationToken.None);
        var second = await run.RunAsync(_clock.GetUtcNow(), CancellationToken.None);
        // Another server's run, which has released nothing itself yet, finds nothing left either.
        var otherServer = await ActivatorUtilitiesRun().RunAsync(_clock.GetUtcNow(), CancellationToken.None);
        var member = await MemberAsync(memberId);

        Assert.Contains("expired at", capture.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((0, 1, 0, 0), (early, first, second, otherServer));
        Assert.Equal((100L, 95L), (member.Balance, member.AvailablePoints));
        Assert.Equal(kept.HoldId, Assert.Single(member.Holds).HoldId);
        Assert.Equal(1, await Ledger.CountAsync(memberId, "hold-expired:" + held.HoldId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_hold_that_reached_the_ledger_after_the_lookback_is_released_by_the_next_full_run()
    {
        var memberId = await MemberWithPointsAsync();
        var run = ActivatorUtilitiesRun();
        var start = _clock.GetUtcNow();
        // This process's runs have released everything up to half an hour ahead...
        Assert.Equal(0, await run.RunAsync(start.AddMinutes(30), CancellationToken.None));
        // ...when an authorization expiring long before that mark less the lookback (10 minutes) reaches the ledger.
        var held = await _server.Scoring.AuthorizeAsync(Authorize(memberId, 25, lifetimeSeconds: 1));

        var recent = await run.RunAsync(start.AddMinutes(31), CancellationToken.None);
        var full = await run.RunAsync(start.AddMinutes(31) + TimeSpan.FromHours(1), CancellationToken.None);

        Assert.Equal((0, 1), (recent, full));
        Assert.Equal(1, await Ledger.CountAsync(memberId, "hold-expired:" + held.HoldId, _server.LedgerConnectionString));
        Assert.Equal(100, (await MemberAsync(memberId)).AvailablePoints);
    }

    private HoldExpiryRun ActivatorUtilitiesRun() =>
        Microsoft.Extensions.DependencyInjection.ActivatorUtilities.CreateInstance<HoldExpiryRun>(_server.Services);

    [Fact]
    public async Task Bad_hold_requests_are_refused_naming_the_field_and_change_nothing()
    {
        var memberId = await MemberWithPointsAsync();

        await RpcAssert.RejectsField("points", () => _server.Scoring.AuthorizeAsync(Authorize(memberId, 0)).ResponseAsync);
        await RpcAssert.RejectsField("lifetime_seconds", () => _server.Scoring.AuthorizeAsync(Authorize(memberId, 5, lifetimeSeconds: -1)).ResponseAsync);
        await RpcAssert.RejectsField("lifetime_seconds", () => _server.Scoring.AuthorizeAsync(Authorize(memberId, 5, lifetimeSeconds: 86_401)).ResponseAsync);
        await RpcAssert.RejectsField("hold_id", () => _server.Scoring.CaptureAsync(Capture(memberId, "", 5)).ResponseAsync);
        await RpcAssert.RejectsField("points", () => _server.Scoring.CaptureAsync(Capture(memberId, "h-1", 0)).ResponseAsync);
        await RpcAssert.RejectsField("hold_id", () => _server.Scoring.VoidAsync(Void(memberId, "bad id!")).ResponseAsync);
        var reserved = Void(memberId, "h-1");
        reserved.TransactionId = "hold-expired:h-1";
        await RpcAssert.RejectsField("transaction_id", () => _server.Scoring.VoidAsync(reserved).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.AuthorizeAsync(Authorize(Ids.Member(), 5)).ResponseAsync);

        Assert.Equal(1, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Empty((await MemberAsync(memberId)).Holds);
    }
}
