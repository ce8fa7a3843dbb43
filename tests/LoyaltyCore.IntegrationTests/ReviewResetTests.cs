using System.Globalization;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>A tier review that resets points, through the real API: nothing it takes can be spent, and Redis matches the ledger.</summary>
public sealed class ReviewResetTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;
    private readonly ShiftableClock _clock = new();
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        // Holds are released by hand here (a hold taken in the past would expire under the run).
        _server = await ServerInstance.StartAsync(s => s["Holds:ExpiryRunEnabled"] = "false", ownLedger: true, clock: _clock);
        // The review fell 12 days ago, so a purchase 17 days ago earned before it.
        var review = TimeZoneInfo.ConvertTime(Now, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).AddDays(-12).ToString("MM-dd", CultureInfo.InvariantCulture);
        // Active for a month: the purchases dated 17 days back are scored by it.
        await Programs.PublishActiveSinceAsync(_server, Programs.Document(Programs.Version(), $$"""
            "tierQualification": { "metric": "spend", "period": "rolling", "months": 12, "review": "{{review}}",
                                   "reviewReset": "aboveCarryOver", "carryOver": 100 }
            """), Now.AddDays(-30));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Points_above_the_carry_over_go_at_the_first_transaction_after_the_review_and_cannot_be_spent()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now.AddDays(-17), lines: Requests.Line("sofa", 1, 40_000)));

        var shown = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 150)).ResponseAsync);
        var unchanged = await HotState.BalanceAsync(memberId);
        var redeemed = await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 60));
        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now, lines: Requests.Line("lamp", 1, 5_000)));

        Assert.Equal(100, shown.Balance);
        Assert.Equal("Insufficient points: the balance is 400, of which the tier review due now resets 300; 150 requested.", refused.Status.Detail);
        Assert.Equal(400, unchanged);
        Assert.Equal((300L, 40L), (redeemed.PointsResetAtReview, redeemed.Balance));
        // The review was recorded with the redemption: the purchase after it resets nothing.
        Assert.Equal((0L, 90L), (purchase.PointsResetAtReview, purchase.Balance));
        Assert.Equal(90, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(90, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_redemption_dated_before_the_review_still_applies_the_review_that_is_due()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now.AddDays(-17), lines: Requests.Line("sofa", 1, 40_000)));
        var backdated = Requests.Redeem(memberId, 50);
        backdated.OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(Now.AddDays(-16));

        var redeemed = await _server.Scoring.RedeemAsync(backdated);

        Assert.Equal((300L, 50L), (redeemed.PointsResetAtReview, redeemed.Balance));
        Assert.Equal(50, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Simulate_answers_the_reset_and_the_balance_Score_would()
    {
        var member = new SimulatedMember { Balance = 400, Tier = "member", Counters = { ["k.tr"] = 20000101 } };

        var simulated = await Programs.Admin(_server).SimulateAsync(new SimulateRequest
        {
            Purchase = Requests.Score(Ids.Member(), occurredAt: Now, lines: Requests.Line("lamp", 1, 5_000)),
            Member = member,
        });

        Assert.Equal((50L, 300L, 150L), (simulated.PointsEarned, simulated.PointsResetAtReview, simulated.Balance));
    }

    [Fact]
    public async Task A_purchase_applying_the_review_reports_what_it_reset()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now.AddDays(-17), lines: Requests.Line("sofa", 1, 40_000)));

        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now, lines: Requests.Line("lamp", 1, 5_000)));

        Assert.Equal((50L, 300L, 150L), (purchase.PointsEarned, purchase.PointsResetAtReview, purchase.Balance));
        Assert.Equal(150, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(150, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_hold_applies_the_review_that_is_due_so_it_cannot_reserve_the_points_the_review_takes()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now.AddDays(-17), lines: Requests.Line("sofa", 1, 40_000)));

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.AuthorizeAsync(HoldTests.Authorize(memberId, 150)).ResponseAsync);
        var held = await _server.Scoring.AuthorizeAsync(HoldTests.Authorize(memberId, 60));
        var captured = await _server.Scoring.CaptureAsync(HoldTests.Capture(memberId, held.HoldId, 60));
        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now, lines: Requests.Line("lamp", 1, 5_000)));

        Assert.Equal("Insufficient points: the balance is 400, of which the tier review due now resets 300; 150 requested.", refused.Status.Detail);
        Assert.Equal((300L, 100L, 40L), (held.PointsResetAtReview, held.Balance, held.AvailablePoints));
        Assert.Equal(40, captured.Balance);
        // The review went with the hold: the purchase after it resets nothing.
        Assert.Equal((0L, 90L), (purchase.PointsResetAtReview, purchase.Balance));
        Assert.Equal(90, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(90, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_credit_by_hand_applies_the_due_review_even_with_holds_open_and_is_never_refused()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Now.AddDays(-17), lines: Requests.Line("sofa", 1, 40_000)));
        // Reserved on the day before the review, so it holds points the review then resets.
        _clock.Advance(-TimeSpan.FromDays(13));
        var before = HoldTests.Authorize(memberId, 350);
        before.OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(_clock.GetUtcNow());
        var held = await _server.Scoring.AuthorizeAsync(before);
        _clock.Advance(TimeSpan.FromDays(13));
        var support = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.SupportKey));

        var credited = await support.AdjustPointsAsync(AdjustmentTests.Adjustment(memberId, 10));

        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal(0, held.PointsResetAtReview);
        Assert.Equal((300L, 110L), (credited.PointsResetAtReview, credited.Balance));
        Assert.Equal((110L, -240L), (member.Balance, member.AvailablePoints));
        Assert.Equal(110, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
    }
}
