using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>ScoringService.Return through the real API: what returned goods earned comes back, exactly once.</summary>
public sealed class ReturnTests : IAsyncLifetime
{
    // Budgets live in the shared Redis under their campaign's id: each test has a campaign of its own.
    private readonly string _campaignId = "promo-" + Guid.NewGuid().ToString("N")[..12];
    private ServerInstance _server = null!;

    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(ownLedger: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static ReturnRequest Return(string memberId, string purchaseId, params (int Line, int Quantity)[] lines)
    {
        var request = new ReturnRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, PurchaseTransactionId = purchaseId, StoreId = "store-042",
            Channel = Channel.Store, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        request.Lines.AddRange(lines.Select(l => new ReturnLine { LineIndex = l.Line, Quantity = l.Quantity }));
        return request;
    }

    private async Task PublishAsync(string sections) => await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), sections));

    [Fact]
    public async Task A_purchase_answers_what_each_line_earned_and_a_whole_return_takes_it_all_back()
    {
        await PublishAsync("""
            "rules": [ { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } },
                       { "id": "basket-20", "type": "bonus", "points": 15, "minimumSpend": 2000 } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: [new Line { Sku = "c", Category = "coffee", Brand = "b", Quantity = 2, UnitPriceMinor = 1_000 }, Requests.Line("tea", 1, 1_000)]);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal(30 + 20 + 15, scored.PointsEarned);
        Assert.Equal([(0, 20L), (1, 10L)], scored.Breakdown.Single(b => b.RuleId == "base-earn").Lines.Select(l => (l.Line, l.Points)));
        Assert.Equal([(0, 20L)], scored.Breakdown.Single(b => b.RuleId == "coffee-x2").Lines.Select(l => (l.Line, l.Points)));
        Assert.Equal(2_000, scored.Breakdown.Single(b => b.RuleId == "basket-20").RequiredSpendMinor);
        Assert.Equal([(2, 2_000L, true), (1, 1_000L, true)], scored.Lines.Select(l => (l.Quantity, l.TotalMinor, l.Earns)));
        Assert.Equal((65L, 0L, 0L, 3_000L), (returned.PointsReturned, returned.PointsWrittenOff, returned.Balance, returned.SpendReturnedMinor));
        Assert.Equal((0L, 0L), (member.Balance, member.LifetimeSpendMinor));
        Assert.Equal(0, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Partial_returns_in_several_steps_add_up_to_the_whole_and_a_basket_bonus_goes_when_the_basket_no_longer_qualifies()
    {
        await PublishAsync("""
            "rules": [ { "id": "basket-30", "type": "bonus", "points": 40, "minimumSpend": 3000 } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        // Three units at 10.01 EUR: 30.03 EUR, 30 points of base earn, and the 40-point bonus for 30.00 EUR or more.
        var purchase = Requests.Score(memberId, lines: Requests.Line("mug", 3, 1_001));
        await _server.Scoring.ScoreAsync(purchase);

        var first = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var second = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var third = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));

        // 30 points over 3 units: 10 a unit, exactly. The bonus goes with the first unit (20.02 EUR left < 30.00).
        Assert.Equal((50L, 20L, 1_001L), (first.PointsReturned, first.Balance, first.SpendReturnedMinor));
        Assert.Equal(["base-earn", "basket-30"], first.Breakdown.Select(b => b.RuleId));
        Assert.Equal((10L, 10L, 1_001L), (second.PointsReturned, second.Balance, second.SpendReturnedMinor));
        Assert.Equal((10L, 0L, 1_001L), (third.PointsReturned, third.Balance, third.SpendReturnedMinor));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Rounding_over_partial_returns_never_takes_back_more_than_the_line_earned()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        // 3 units of 3.35 EUR: 10.05 EUR, 10 points; a unit carries 3.33 of them.
        var purchase = Requests.Score(memberId, lines: Requests.Line("pen", 3, 335));
        await _server.Scoring.ScoreAsync(purchase);

        var one = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var two = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var last = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));

        // Cumulative floors: 3 (of 3.33), 6 (of 6.67), then the rest: 10.
        Assert.Equal([3L, 3L, 4L], new[] { one.PointsReturned, two.PointsReturned, last.PointsReturned });
        Assert.Equal([335L, 335L, 335L], new[] { one.SpendReturnedMinor, two.SpendReturnedMinor, last.SpendReturnedMinor });
    }

    [Fact]
    public async Task A_line_cannot_be_returned_twice_and_a_return_beyond_what_remains_names_the_returnable_quantity()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: [Requests.Line("a", 2, 1_000), Requests.Line("b", 1, 500)]);
        await _server.Scoring.ScoreAsync(purchase);
        await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var before = await HotState.StateAsync(memberId);

        var beyond = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 2))).ResponseAsync);
        var rest = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        var nothing = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId)).ResponseAsync);

        Assert.Contains("Line 0 of purchase", beyond.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1 returnable, 2 requested", beyond.Status.Detail, StringComparison.Ordinal);
        Assert.Equal((15L, 0L), (rest.PointsReturned, rest.Balance));
        Assert.Contains("left to return", nothing.Status.Detail, StringComparison.Ordinal);
        Assert.NotEqual(before, await HotState.StateAsync(memberId));
        Assert.Equal(3, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_retry_replays_the_original_answer_and_an_id_reused_for_another_return_is_already_exists()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 2, 1_000));
        await _server.Scoring.ScoreAsync(purchase);
        var request = Return(memberId, purchase.TransactionId, (0, 1));

        var first = await _server.Scoring.ReturnAsync(request);
        var retried = await _server.Scoring.ReturnAsync(request);
        var other = request.Clone();
        other.Lines[0].Quantity = 2;

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _server.Scoring.ReturnAsync(other).ResponseAsync);
        Assert.True(retried.Replayed);
        Assert.Equal(first.Balance, retried.Balance);
        Assert.Equal(10, await HotState.BalanceAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task Unknown_purchases_lines_and_members_are_refused_and_change_nothing()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 1, 1_000));
        await _server.Scoring.ScoreAsync(purchase);
        var redemption = Requests.Redeem(memberId, 1);
        await _server.Scoring.RedeemAsync(redemption);

        var unknown = await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.ReturnAsync(Return(memberId, "never-scored")).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.ReturnAsync(Return(memberId, redemption.TransactionId)).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.ReturnAsync(Return(Ids.Member(), purchase.TransactionId)).ResponseAsync);
        await RpcAssert.RejectsField("lines[0].line_index", () => _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (1, 1))).ResponseAsync);
        await RpcAssert.RejectsField("lines[1].line_index", () => _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1), (0, 1))).ResponseAsync);
        await RpcAssert.RejectsField("lines[0].quantity", () => _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 0))).ResponseAsync);
        await RpcAssert.RejectsField("purchase_transaction_id", () => _server.Scoring.ReturnAsync(Return(memberId, "")).ResponseAsync);

        Assert.Contains("no scored purchase 'never-scored'", unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Equal(9, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task With_allow_a_return_after_the_points_were_spent_takes_the_balance_below_zero_and_earnings_repay_it()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 1, 5_000));
        await _server.Scoring.ScoreAsync(purchase);
        await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 45));

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 1)).ResponseAsync);
        var earned = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("b", 1, 6_000)));

        Assert.Equal((50L, 0L, -45L), (returned.PointsReturned, returned.PointsWrittenOff, returned.Balance));
        Assert.Contains("balance is -45", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(15, earned.Balance);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task With_clamp_a_return_takes_what_is_there_and_writes_off_the_rest()
    {
        await PublishAsync("""
            "returns": { "negativeBalance": "clamp" }
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 1, 5_000));
        await _server.Scoring.ScoreAsync(purchase);
        await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 45));

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));

        Assert.Equal((50L, 45L, 0L), (returned.PointsReturned, returned.PointsWrittenOff, returned.Balance));
        Assert.Equal(0, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_return_gives_back_the_daily_cap_and_the_campaign_budget_it_drew_from()
    {
        await PublishAsync("""
            "caps": { "perMemberPerDay": 100 },
            "campaigns": [ { "id": "{{CampaignId}}", "budget": 1000, "rules": [ { "id": "promo-x3", "type": "multiplier", "factor": 3 } ] } ]
            """.Replace("{{CampaignId}}", _campaignId, StringComparison.Ordinal));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 1, 3_000));
        var scored = await _server.Scoring.ScoreAsync(purchase);
        var budgets = _server.Get<CampaignBudgets>();
        var program = _server.Get<ProgramProvider>().Current;
        var remainingBefore = await budgets.RemainingAsync(program, _campaignId);

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        var remainingAfter = await budgets.RemainingAsync(program, _campaignId);
        // The day's 100 points are free again: without the return the cap would have left this purchase 10 of its 75.
        var again = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("b", 1, 2_500)));

        Assert.Equal((30L + 60L, _campaignId), (scored.PointsEarned, scored.Breakdown.Single(b => b.RuleId == "promo-x3").CampaignId));
        Assert.Equal(90, returned.PointsReturned);
        Assert.Equal(remainingBefore + 60, remainingAfter);
        Assert.Equal(75, again.PointsEarned);
        Assert.Equal(1000 - 50, await budgets.RemainingAsync(program, _campaignId));
        Assert.Equal(50, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, _campaignId));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task The_history_shows_the_return_referring_to_its_purchase()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 2, 1_000));
        await _server.Scoring.ScoreAsync(purchase);
        var request = Return(memberId, purchase.TransactionId, (0, 1));
        await _server.Scoring.ReturnAsync(request);

        var history = await _server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Return } });

        var row = Assert.Single(history.Transactions);
        Assert.Equal((request.TransactionId, -10L, -1_000L, purchase.TransactionId, 10L), (row.TransactionId, row.Points, row.SpendMinor, row.RefersTo, row.BalanceAfter));
    }

    [Fact]
    public async Task A_first_purchase_bonus_goes_only_when_nothing_of_the_basket_remains_and_an_upgrade_bonus_stays()
    {
        await PublishAsync("""
            "rules": [ { "id": "first", "type": "bonus", "points": 100, "when": { "firstPurchase": true } },
                       { "id": "welcome-silver", "type": "event", "event": "tier_reached", "points": 250 } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        // 500.00 EUR: 500 points, the first-purchase bonus, and silver with its upgrade bonus.
        var purchase = Requests.Score(memberId, lines: [Requests.Line("sofa", 1, 40_000), Requests.Line("lamp", 1, 10_000)]);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        var part = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (1, 1)));
        var rest = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal((850L, "silver"), (scored.PointsEarned, scored.Tier));
        Assert.Equal(0, scored.Breakdown.Single(b => b.RuleId == "welcome-silver").RequiredSpendMinor);
        Assert.Equal(["base-earn"], part.Breakdown.Select(b => b.RuleId));
        Assert.Equal(100, part.PointsReturned);
        Assert.Equal(["base-earn", "first"], rest.Breakdown.Select(b => b.RuleId));
        Assert.Equal((500L, 250L), (rest.PointsReturned, rest.Balance));
        // The tier waits for its review (this program's downgrades are at the review), so silver stays.
        Assert.Equal(("silver", 0L), (member.Tier, member.LifetimeSpendMinor));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task An_objective_step_goes_when_the_years_spend_falls_below_it_and_can_be_reached_again()
    {
        await PublishAsync("""
            "objectives": [ { "id": "ca", "name": "Revenue", "steps": [ { "percent": 100, "points": 1000 } ] } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, ReferenceRevenueMinor = 10_000 });
        var purchase = Requests.Score(memberId, lines: [Requests.Line("a", 1, 6_000), Requests.Line("b", 1, 5_000)]);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        var small = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (1, 1)));
        var again = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("c", 1, 4_000)));

        Assert.Equal(10_000, scored.Breakdown.Single(b => b.RuleId == "ca@100").RequiredYearSpendMinor);
        Assert.Equal(1_110, scored.PointsEarned);
        // 60.00 EUR of the year's 100.00 is left: the step goes with the 50 points of the line.
        Assert.Equal((1_050L, 60L), (small.PointsReturned, small.Balance));
        Assert.Equal(1_040, again.PointsEarned);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task With_immediate_downgrades_on_spend_a_return_moves_the_tier_down_at_once()
    {
        await PublishAsync("""
            "tierQualification": { "metric": "spend", "period": "rolling", "months": 12, "downgrade": "immediate" }
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: [Requests.Line("sofa", 1, 45_000), Requests.Line("lamp", 1, 6_000)]);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (1, 1)));

        Assert.Equal("silver", scored.Tier);
        Assert.Equal("member", returned.Tier);
        Assert.Equal("member", (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Tier);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Concurrent_returns_of_the_same_line_return_it_once()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 3, 1_000));
        await _server.Scoring.ScoreAsync(purchase);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));

        Assert.Equal(3, outcomes.Count(o => o == StatusCode.OK));
        Assert.All(outcomes, o => Assert.Contains(o, new[] { StatusCode.OK, StatusCode.FailedPrecondition }));
        Assert.Equal(0, await HotState.BalanceAsync(memberId));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Returning_purchases_whole_takes_back_what_every_mechanic_gave_them()
    {
        await PublishAsync("""
            "memberships": [ { "id": "plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 } ],
            "rules": [
              { "id": "students", "type": "multiplier", "factor": 2, "when": { "segments": ["student"] } },
              { "id": "plus-bonus", "type": "bonus", "points": 10, "when": { "membership": "plus" } },
              { "id": "red-summer", "type": "multiplier", "factor": 3, "lines": { "labels": { "color": ["red"] } }, "minimumSpend": 1000 },
              { "id": "spring-code", "type": "bonus", "points": 25, "when": { "basketContains": { "labels": { "promo": ["SPRING24"] } } } },
              { "id": "big-basket", "type": "bonus", "points": 30, "when": { "basketTotalAtLeast": 3000 } },
              { "id": "second-visit", "type": "bonus", "points": 40, "when": { "nthPurchase": { "n": 2, "period": "month" } } }
            ],
            "campaigns": [ { "id": "{{CampaignId}}", "budget": 100000, "rules": [ { "id": "promo-x2", "type": "multiplier", "factor": 2 },
                                                                    { "id": "promo-visit", "type": "bonus", "points": 5 } ] } ],
            "referral": { "referrerPoints": 500, "refereePoints": 200, "minimumSpend": 2000 }
            """.Replace("{{CampaignId}}", _campaignId, StringComparison.Ordinal));
        var referrer = await IdempotencyTests.EnrolledMemberAsync(_server);
        var memberId = Ids.Member();
        await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId, ReferrerMemberId = referrer });
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Segments = new SegmentList { Values = { "student" } } });
        await _server.Members.PurchaseMembershipAsync(new PurchaseMembershipRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, MembershipId = "plus", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
        // The first purchase reaches silver (500.00 EUR) and earns the referral welcome bonus.
        var first = Requests.Score(memberId, lines: Requests.Line("sofa", 1, 60_000));
        var firstScored = await _server.Scoring.ScoreAsync(first);
        var red = Requests.Line("dress", 1, 2_000);
        red.Labels.Add("color", "red");
        var coded = Requests.Line("shirt", 1, 1_500);
        coded.Labels.Add("promo", "SPRING24");
        var second = Requests.Score(memberId, lines: [red, coded, Requests.Line("socks", 2, 250)]);
        var secondScored = await _server.Scoring.ScoreAsync(second);
        var balanceBefore = secondScored.Balance;
        var referrerBalance = await HotState.BalanceAsync(referrer);

        var secondBack = await _server.Scoring.ReturnAsync(Return(memberId, second.TransactionId));
        var firstBack = await _server.Scoring.ReturnAsync(Return(memberId, first.TransactionId));

        string[] mechanics = ["base-earn", "tier:silver", "membership:plus", "students", "plus-bonus", "red-summer", "spring-code", "big-basket", "second-visit", "promo-x2", "promo-visit"];
        Assert.Equal(mechanics.Order(), secondScored.Breakdown.Select(b => b.RuleId).Order());
        Assert.Equal(mechanics.Order(), secondBack.Breakdown.Select(b => b.RuleId).Order());
        Assert.Equal(secondScored.PointsEarned, secondBack.PointsReturned);
        Assert.Equal(balanceBefore - secondScored.PointsEarned, secondBack.Balance);
        Assert.Contains(firstBack.Breakdown, b => b.RuleId == "referral");
        Assert.Equal(firstScored.PointsEarned, firstBack.PointsReturned);
        Assert.Equal(0, firstBack.Balance);
        // The referrer's reward stands.
        Assert.Equal(referrerBalance, await HotState.BalanceAsync(referrer));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_multiplier_that_needed_spend_goes_whole_when_what_remains_falls_below_it()
    {
        await PublishAsync("""
            "rules": [ { "id": "big-x2", "type": "multiplier", "factor": 2, "minimumSpend": 10000 },
                       { "id": "coffee-x3", "type": "multiplier", "factor": 3, "lines": { "categories": ["coffee"] }, "minimumSpend": 3000 } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var coffee = new Line { Sku = "beans", Category = "coffee", Brand = "b", Quantity = 2, UnitPriceMinor = 2_000 };
        var purchase = Requests.Score(memberId, lines: [Requests.Line("tv", 2, 4_000), coffee]);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        // 120.00 EUR: base 120, x2 adds 120, the coffee x3 adds 80 on its 40.00.
        var oneTv = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        // 80.00 left, below the 100.00 the x2 needed: the rest of it goes now.
        var oneCoffee = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (1, 1)));
        // 20.00 of coffee left, below the 30.00 its x3 needed: the rest of it goes.

        Assert.Equal(320, scored.PointsEarned);
        Assert.Equal((10_000L, 0L), (scored.Breakdown.Single(b => b.RuleId == "big-x2").RequiredSpendMinor, scored.Breakdown.Single(b => b.RuleId == "big-x2").RequiredLinesSpendMinor));
        Assert.Equal(3_000, scored.Breakdown.Single(b => b.RuleId == "coffee-x3").RequiredLinesSpendMinor);
        Assert.Equal([("base-earn", 40L), ("big-x2", 120L)], oneTv.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal([("base-earn", 20L), ("coffee-x3", 80L)], oneCoffee.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(320 - 160 - 100, oneCoffee.Balance);
        // What is left earns only its base: 40.00 of TV and 20.00 of coffee.
        var rest = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));
        Assert.Equal((60L, 0L), (rest.PointsReturned, rest.Balance));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_bonus_on_a_basket_that_never_earned_goes_only_with_the_last_of_it()
    {
        await PublishAsync("""
            "exclusions": { "categories": ["gift-card"] },
            "rules": [ { "id": "first", "type": "bonus", "points": 100, "when": { "firstPurchase": true } } ]
            """);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var cards = new Line { Sku = "card", Category = "gift-card", Brand = "b", Quantity = 2, UnitPriceMinor = 2_500 };
        var purchase = Requests.Score(memberId, lines: cards);
        var scored = await _server.Scoring.ScoreAsync(purchase);

        var one = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));
        var last = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId, (0, 1)));

        Assert.Equal(100, scored.PointsEarned);
        Assert.Equal((0L, 2_500L), (one.PointsReturned, one.SpendReturnedMinor));
        Assert.Equal((100L, 0L), (last.PointsReturned, last.Balance));
    }

    [Fact]
    public async Task With_clamp_what_is_written_off_is_not_given_back_to_the_budget_or_the_caps()
    {
        await PublishAsync("""
            "returns": { "negativeBalance": "clamp" },
            "caps": { "perMemberPerDay": 1000 },
            "campaigns": [ { "id": "{{CampaignId}}", "budget": 1000, "rules": [ { "id": "promo-x3", "type": "multiplier", "factor": 3 } ] } ]
            """.Replace("{{CampaignId}}", _campaignId, StringComparison.Ordinal));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = Requests.Score(memberId, lines: Requests.Line("a", 1, 3_000));
        await _server.Scoring.ScoreAsync(purchase);
        // 90 points (30 base, 60 from the campaign); 45 are spent, so half of what comes back is written off.
        await _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 45));
        var budgets = _server.Get<CampaignBudgets>();
        var program = _server.Get<ProgramProvider>().Current;
        var remainingBefore = await budgets.RemainingAsync(program, _campaignId);

        var returned = await _server.Scoring.ReturnAsync(Return(memberId, purchase.TransactionId));

        Assert.Equal((90L, 45L, 0L), (returned.PointsReturned, returned.PointsWrittenOff, returned.Balance));
        Assert.Equal(remainingBefore + 30, await budgets.RemainingAsync(program, _campaignId));
        Assert.Equal(60 - 30, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, _campaignId));
        // The day's 90 points less the 45 the balance gave back.
        Assert.Equal("45", Assert.Single(await HotState.StateAsync(memberId), f => f.Field.StartsWith("k.d:", StringComparison.Ordinal)).Value);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }
}
