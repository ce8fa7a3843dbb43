using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class FixedBonusTests
{
    private static LoyaltyProgram NthPurchase(int n, string period) => Program(
        $$"""
        "rules": [ { "id": "nth", "name": "Nth visit", "type": "bonus", "points": 150, "when": { "nthPurchase": { "n": {{n}}, "period": "{{period}}" } } } ]
        """,
        timeZone: Paris);

    [Theory]
    [InlineData(9_999, 99)]
    [InlineData(10_000, 200)]
    [InlineData(10_001, 200)]
    public void A_basket_bonus_fires_from_exactly_the_threshold_and_not_a_cent_below(long spendMinor, long expected)
    {
        var program = Program("""
            "rules": [ { "id": "big-basket", "name": "Basket over 100 EUR", "type": "bonus", "points": 100, "when": { "basketTotalAtLeast": 10000 } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(Utc(2026, 3, 10), Line(spendMinor)));

        Assert.Equal(expected, outcome.PointsEarned);
        Assert.Equal(expected == 200, outcome.Breakdown.Any(b => b.RuleId == "big-basket"));
    }

    [Fact]
    public void A_bonus_line_carries_its_name_or_a_default_reason()
    {
        var program = Program("""
            "rules": [
              { "id": "named", "name": "Thank you", "type": "bonus", "points": 5 },
              { "id": "anonymous", "type": "bonus", "points": 7 }
            ]
            """);

        var outcome = program.Score(Member(), BasketAt(Utc(2026, 3, 10), Line(100)));

        Assert.Equal([("base-earn", 1L), ("named", 5L), ("anonymous", 7L)], outcome.Lines());
        Assert.Equal("Thank you", outcome.LineFor("named").Reason);
        Assert.Equal("7 bonus points", outcome.LineFor("anonymous").Reason);
    }

    [Theory]
    [InlineData(0, 210)]
    [InlineData(1, 10)]
    [InlineData(17, 10)]
    public void The_first_purchase_bonus_fires_only_for_a_member_without_purchases(long purchases, long expected)
    {
        var program = Program("""
            "rules": [ { "id": "welcome", "type": "bonus", "points": 200, "when": { "firstPurchase": true } } ]
            """);

        var outcome = program.Score(new MemberState { Purchases = purchases }, BasketAt(Utc(2026, 3, 10), Line(1_000)));

        Assert.Equal(expected, outcome.PointsEarned);
    }

    [Theory]
    [InlineData(3, false)]
    [InlineData(4, true)]
    [InlineData(5, false)]
    [InlineData(9, false)]
    public void The_nth_purchase_bonus_fires_on_exactly_the_nth_purchase_of_the_month(long earlierThisMonth, bool fires)
    {
        var member = new MemberState { Purchases = 40, Counters = Counters(("k.nm:202601", earlierThisMonth)) };

        var outcome = NthPurchase(5, "month").Score(member, BasketAt(Utc(2026, 1, 20), Line(1_000)));

        Assert.Equal(fires, outcome.Breakdown.Any(b => b.RuleId == "nth"));
        Assert.Equal(fires ? 160 : 10, outcome.PointsEarned);
        Assert.Equal([("k.nm:202601", 1L)], outcome.Deltas());
    }

    [Fact]
    public void The_month_of_an_nth_purchase_is_the_local_month()
    {
        // 31 January 23:30 UTC is 1 February 00:30 in Paris: January's four purchases do not count.
        var at = Utc(2026, 1, 31, 23, 30);
        var inJanuary = new MemberState { Counters = Counters(("k.nm:202601", 4)) };
        var inFebruary = new MemberState { Counters = Counters(("k.nm:202602", 4)) };

        var january = NthPurchase(5, "month").Score(inJanuary, BasketAt(at, Line(1_000)));
        var february = NthPurchase(5, "month").Score(inFebruary, BasketAt(at, Line(1_000)));

        Assert.Equal([("base-earn", 10L)], january.Lines());
        Assert.Equal([("k.nm:202602", 1L)], january.Deltas());
        Assert.Equal([("base-earn", 10L), ("nth", 150L)], february.Lines());
    }

    [Fact]
    public void The_week_of_an_nth_purchase_is_the_local_iso_week()
    {
        // Sunday 11 January 2026 23:30 UTC is Monday 12 January 00:30 in Paris: ISO week 3, not week 2.
        var at = Utc(2026, 1, 11, 23, 30);
        var inWeek2 = new MemberState { Counters = Counters(("k.nw:202602", 2)) };
        var inWeek3 = new MemberState { Counters = Counters(("k.nw:202603", 2)) };

        var week2 = NthPurchase(3, "week").Score(inWeek2, BasketAt(at, Line(1_000)));
        var week3 = NthPurchase(3, "week").Score(inWeek3, BasketAt(at, Line(1_000)));

        Assert.DoesNotContain(week2.Breakdown, b => b.RuleId == "nth");
        Assert.Equal([("k.nw:202603", 1L)], week2.Deltas());
        Assert.Contains(week3.Breakdown, b => b.RuleId == "nth");
    }

    [Fact]
    public void A_week_that_straddles_new_year_keeps_its_iso_week_year()
    {
        // Friday 1 January 2027 belongs to ISO week 53 of 2026.
        var member = new MemberState { Counters = Counters(("k.nw:202653", 1)) };

        var outcome = NthPurchase(2, "week").Score(member, BasketAt(Utc(2027, 1, 1, 10), Line(1_000)));

        Assert.Contains(outcome.Breakdown, b => b.RuleId == "nth");
        Assert.Equal([("k.nw:202653", 1L)], outcome.Deltas());
    }

    [Theory]
    [InlineData("day", "k.nd:20260110")]
    [InlineData("year", "k.ny:2026")]
    public void Day_and_year_purchase_counters_are_keyed_by_the_local_period(string period, string key)
    {
        // Friday 9 January 23:30 UTC is Saturday 10 January in Paris.
        var member = new MemberState { Counters = Counters((key, 1)) };

        var outcome = NthPurchase(2, period).Score(member, BasketAt(Utc(2026, 1, 9, 23, 30), Line(1_000)));

        Assert.Contains(outcome.Breakdown, b => b.RuleId == "nth");
        Assert.Equal([(key, 1L)], outcome.Deltas());
    }

    [Fact]
    public void Every_period_used_by_a_rule_is_counted_once_per_purchase()
    {
        var program = Program("""
            "rules": [
              { "id": "third-of-day", "type": "bonus", "points": 1, "when": { "nthPurchase": { "n": 3, "period": "day" } } },
              { "id": "tenth-of-month", "type": "bonus", "points": 1, "when": { "nthPurchase": { "n": 10, "period": "month" } } },
              { "id": "also-monthly", "type": "bonus", "points": 1, "when": { "nthPurchase": { "n": 20, "period": "month" } } }
            ]
            """);

        var outcome = program.Score(new MemberState(), BasketAt(Utc(2026, 6, 15), Line(1_000)));

        Assert.Equal([("k.nd:20260615", 1L), ("k.nm:202606", 1L)], outcome.Deltas());
    }

    [Fact]
    public void A_program_without_nth_purchase_rules_keeps_no_purchase_counters()
    {
        var outcome = Program().Score(new MemberState(), BasketAt(Utc(2026, 6, 15), Line(1_000)));

        Assert.Empty(outcome.CounterDeltas);
    }
}
