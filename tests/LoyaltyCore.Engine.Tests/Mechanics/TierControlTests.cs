using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>Manual tier floors, the balance metric, qualification since the last tier change, immediate downgrades.</summary>
public sealed class TierControlTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram Qualifying(string qualification) => Program($$""" "tierQualification": {{qualification}} """);

    private static MemberState WithFloor(string tier, int until, string floor, long lifetimeSpend = 0, params (string Key, long Value)[] counters) => new()
    {
        Tier = tier, TierFloor = floor, TierFloorUntil = until, LifetimeSpendMinor = lifetimeSpend, Counters = Counters(counters),
    };

    [Fact]
    public void A_floor_keeps_the_member_at_its_tier_through_a_review_until_its_date()
    {
        var program = Qualifying("""{ "metric": "spend", "period": "rolling", "months": 12, "review": "01-01" }""");
        var member = WithFloor("gold", 20260331, "gold", 0, (CounterKeys.TierReview, 20250101));

        var during = program.Score(member, BasketAt(At, Line(1_000)));

        Assert.Equal("gold", during.TierBefore.Id);
        Assert.Equal("gold", during.TierAfter.Id);
        Assert.Equal(5, during.LineFor("tier:gold").Points);
        Assert.Equal([(CounterKeys.TierReview, 20260101L)], during.Sets());
    }

    [Fact]
    public void After_its_date_the_floor_tier_holds_until_the_next_review_recomputes_it()
    {
        var program = Qualifying("""{ "metric": "spend", "period": "rolling", "months": 12, "review": "07-01" }""");
        var member = WithFloor("gold", 20260331, "gold", 0, (CounterKeys.TierReview, 20250701));

        var afterFloor = program.Score(member, BasketAt(Utc(2026, 4, 2), Line(1_000)));
        var atReview = program.Score(member, BasketAt(Utc(2026, 7, 2), Line(1_000)));

        Assert.Equal("gold", afterFloor.TierAfter.Id);
        Assert.Equal("member", atReview.TierBefore.Id);
    }

    [Fact]
    public void Earnings_never_move_a_member_below_a_floor_even_with_immediate_downgrades()
    {
        var program = Qualifying("""{ "metric": "spend", "period": "rolling", "months": 3, "downgrade": "immediate" }""");

        var floored = program.Score(WithFloor("silver", 20260331, "silver"), BasketAt(At, Line(1_000)));
        var expired = program.Score(WithFloor("silver", 20260309, "silver"), BasketAt(At, Line(1_000)));

        Assert.Equal(("silver", "silver"), (floored.TierBefore.Id, floored.TierAfter.Id));
        Assert.Equal(("member", "member"), (expired.TierBefore.Id, expired.TierAfter.Id));
    }

    [Fact]
    public void A_floor_below_what_the_member_qualifies_for_changes_nothing()
    {
        var outcome = Program().Score(WithFloor("gold", 20261231, "silver", 300_000), BasketAt(At, Line(1_000)));

        Assert.Equal("gold", outcome.TierAfter.Id);
    }

    [Fact]
    public void The_balance_metric_upgrades_on_the_balance_reached()
    {
        var program = Qualifying("""{ "metric": "balance" }""");

        var upgrade = program.Score(new MemberState { Tier = "member", Balance = 49_900 }, BasketAt(At, Line(10_000)));
        var short_ = program.Score(new MemberState { Tier = "member", Balance = 49_800 }, BasketAt(At, Line(10_000)));

        Assert.Equal("silver", upgrade.TierAfter.Id);
        Assert.Equal("member", short_.TierAfter.Id);
        Assert.Equal(50_000, upgrade.Progress!.Value.QualifyingValue);
        Assert.Empty(upgrade.CounterDeltas);
    }

    [Fact]
    public void With_immediate_downgrades_a_spent_balance_drops_the_tier_at_the_next_transaction()
    {
        var program = Qualifying("""{ "metric": "balance", "downgrade": "immediate" }""");
        var spent = new MemberState { Tier = "silver", Balance = 10_000 };

        var outcome = program.Score(spent, BasketAt(At, Line(1_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("member", outcome.TierAfter.Id);
    }

    [Fact]
    public void With_immediate_downgrades_a_rolling_value_that_fell_drops_the_tier()
    {
        var program = Qualifying("""{ "metric": "spend", "period": "rolling", "months": 3, "downgrade": "immediate" }""");
        // 60,000 spent in November 2025: outside a 3-month window in March 2026.
        var member = new MemberState { Tier = "silver", Counters = Counters((CounterKeys.QualifyingMonth(202511), 60_000)) };
        var recent = new MemberState { Tier = "silver", Counters = Counters((CounterKeys.QualifyingMonth(202602), 60_000)) };

        Assert.Equal("member", program.Score(member, BasketAt(At, Line(1_000))).TierBefore.Id);
        Assert.Equal("silver", program.Score(recent, BasketAt(At, Line(1_000))).TierBefore.Id);
    }

    [Fact]
    public void Qualification_since_the_last_tier_change_counts_from_the_change_and_restarts_at_it()
    {
        var program = Qualifying("""{ "metric": "spend", "period": "sinceLastTierChange" }""");
        var member = new MemberState { Tier = "member", Counters = Counters((CounterKeys.QualifyingSinceTierChange, 45_000)) };
        var silver = new MemberState { Tier = "silver", LifetimeSpendMinor = 500_000, Counters = Counters((CounterKeys.QualifyingSinceTierChange, 10_000)) };

        var below = program.Score(member, BasketAt(At, Line(4_000)));
        var upgrade = program.Score(member, BasketAt(At, Line(5_000)));
        var stillSilver = program.Score(silver, BasketAt(At, Line(100_000)));

        Assert.Equal(4_000, below.Delta(CounterKeys.QualifyingSinceTierChange));
        Assert.Equal("silver", upgrade.TierAfter.Id);
        Assert.Null(upgrade.Delta(CounterKeys.QualifyingSinceTierChange));
        Assert.Equal([(CounterKeys.QualifyingSinceTierChange, 0L)], upgrade.Sets());
        Assert.Equal(0, upgrade.Progress!.Value.QualifyingValue);
        // Gold needs 200,000 since reaching silver, whatever the lifetime spend.
        Assert.Equal("silver", stillSilver.TierAfter.Id);
        Assert.Equal(100_000, stillSilver.Delta(CounterKeys.QualifyingSinceTierChange));
    }

    [Theory]
    [InlineData("""{ "metric": "balance", "period": "rolling" }""", "tierQualification.period: the balance is a value at a point in time: leave period out")]
    [InlineData("""{ "period": "sinceLastTierChange", "downgrade": "immediate" }""", "tierQualification.downgrade: immediate downgrades cannot go with sinceLastTierChange, which restarts at zero at every change")]
    [InlineData("""{ "downgrade": "immediate" }""", "tierQualification.downgrade: lifetime spend and points never go down: immediate needs a rolling or calendarYear period, or the balance metric")]
    [InlineData("""{ "period": "rolling", "downgrade": "immediate", "review": "01-01" }""", "tierQualification.review: with immediate downgrades there is nothing for a review to do: leave review out")]
    [InlineData("""{ "downgrade": "sometimes" }""", "tierQualification.downgrade: one of review, immediate")]
    [InlineData("""{ "period": "sinceLastTierChange", "review": "01-01" }""", "tierQualification.review: sinceLastTierChange restarts at every change, so a review right after an upgrade would undo it: leave review out")]
    [InlineData("""{ "metric": "visits" }""", "tierQualification.metric: one of spend, points, balance")]
    public void Qualification_options_that_cannot_work_together_are_refused(string qualification, string error)
    {
        Assert.Contains(error, Errors(Json($$""" "tierQualification": {{qualification}} """)));
    }

    [Fact]
    public void A_review_works_with_the_balance_which_can_fall()
    {
        Assert.NotNull(Qualifying("""{ "metric": "balance", "review": "01-01" }""").TierPolicy.Review);
    }
    [Theory]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "all" }""", 2_000L)]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "aboveCarryOver", "carryOver": 500 }""", 1_500L)]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "aboveCarryOver", "carryOver": 5000 }""", 0L)]
    [InlineData("""{ "period": "rolling", "review": "01-01" }""", 0L)]
    public void A_review_resets_points_as_configured_at_the_first_transaction_after_it(string qualification, long reset)
    {
        var program = Qualifying(qualification);
        var member = new MemberState { Tier = "member", Balance = 2_000, Counters = Counters((CounterKeys.TierReview, 20250101)) };
        var reviewed = new MemberState { Tier = "member", Balance = 2_000, Counters = Counters((CounterKeys.TierReview, 20260101)) };

        var atReview = program.Score(member, BasketAt(At, Line(1_000)));
        var later = program.Score(reviewed, BasketAt(At, Line(1_000)));

        Assert.Equal(reset, atReview.PointsReset);
        Assert.Equal(10 - reset, atReview.BalanceDelta);
        Assert.Equal(10, atReview.PointsEarned);
        Assert.Equal(0, later.PointsReset);
    }

    [Fact]
    public void An_event_at_the_review_resets_points_too()
    {
        var program = Program("""
            "tierQualification": { "period": "rolling", "review": "01-01", "reviewReset": "all" },
            "rules": [ { "id": "review", "type": "event", "event": "review_posted", "points": 20 } ]
            """);
        var member = new MemberState { Tier = "member", Balance = 700, Counters = Counters((CounterKeys.TierReview, 20250101)) };

        var outcome = program.RecordEvent(member, "review_posted", At);

        Assert.Equal((20L, 700L, -680L), (outcome.PointsEarned, outcome.PointsReset, outcome.BalanceDelta));
    }

    [Fact]
    public void On_the_balance_metric_a_review_judges_the_balance_before_its_reset()
    {
        var program = Qualifying("""{ "metric": "balance", "review": "01-01", "reviewReset": "all" }""");
        var qualified = new MemberState { Tier = "gold", Balance = 80_000, Counters = Counters((CounterKeys.TierReview, 20250101)) };
        var short_ = new MemberState { Tier = "gold", Balance = 40_000, Counters = Counters((CounterKeys.TierReview, 20250101)) };

        var kept = program.Score(qualified, BasketAt(At, Line(1_000)));
        var dropped = program.Score(short_, BasketAt(At, Line(1_000)));

        Assert.Equal(("silver", 80_000L), (kept.TierAfter.Id, kept.PointsReset));
        Assert.Equal(("member", 40_000L), (dropped.TierAfter.Id, dropped.PointsReset));
        // What is left after the reset: the 12 points of this purchase (10 base, silver x1.25).
        Assert.Equal(12, kept.Progress!.Value.QualifyingValue);
    }
    [Theory]
    [InlineData("""{ "period": "rolling", "reviewReset": "all" }""", "tierQualification.reviewReset: a reset happens at a review: set review")]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "aboveCarryOver" }""", "tierQualification.carryOver: required")]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "all", "carryOver": 10 }""", "tierQualification.carryOver: only with reviewReset aboveCarryOver")]
    [InlineData("""{ "period": "rolling", "review": "01-01", "reviewReset": "half" }""", "tierQualification.reviewReset: one of none, all, aboveCarryOver")]
    public void Review_resets_are_validated(string qualification, string error)
    {
        Assert.Contains(error, Errors(Json($$""" "tierQualification": {{qualification}} """)));
    }
}
