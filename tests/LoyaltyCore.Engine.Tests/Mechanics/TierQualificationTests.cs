using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class TierQualificationTests
{
    private const string PointTiers = """
        [
          { "id": "member", "name": "Member", "threshold": 0 },
          { "id": "silver", "name": "Silver", "threshold": 500, "multiplier": 1.25 },
          { "id": "gold", "name": "Gold", "threshold": 2000, "multiplier": 1.5 }
        ]
        """;

    private static LoyaltyProgram Qualifying(string qualification, string rules = "[]", string tiers = StandardTiers) =>
        Program($$""" "tierQualification": {{qualification}}, "rules": {{rules}} """, timeZone: Paris, tiers: tiers);

    [Fact]
    public void Lifetime_spend_is_the_default_and_the_crossing_purchase_earns_at_the_previous_tier()
    {
        var outcome = Program().Score(Member(199_000, "silver"), BasketAt(Utc(2026, 4, 1), Line(2_000)));

        Assert.Equal([("base-earn", 20L), ("tier:silver", 5L)], outcome.Lines());
        Assert.Equal("silver", outcome.TierBefore.Id);
        Assert.Equal("gold", outcome.TierAfter.Id);
        Assert.True(outcome.TierChanged);
        Assert.Null(outcome.Progress);
        Assert.Empty(outcome.CounterDeltas);
    }

    [Theory]
    [InlineData(198_000, "gold")]
    [InlineData(197_999, "silver")]
    public void Reaching_a_lifetime_threshold_exactly_qualifies(long lifetimeSpendMinor, string expected)
    {
        var outcome = Program().Score(Member(lifetimeSpendMinor, "silver"), BasketAt(Utc(2026, 4, 1), Line(2_000)));

        Assert.Equal(expected, outcome.TierAfter.Id);
    }

    [Fact]
    public void Progress_names_the_next_tier_and_what_remains()
    {
        var outcome = Program().Score(Member(10_000), BasketAt(Utc(2026, 4, 1), Line(2_500)));

        Assert.False(outcome.TierChanged);
        Assert.Equal("silver", outcome.Progress!.Value.NextTier.Id);
        Assert.Equal(37_500, outcome.Progress.Value.Remaining);
        Assert.Equal(12_500, outcome.Progress.Value.QualifyingValue);
    }

    [Fact]
    public void On_the_points_metric_lifetime_points_qualify_and_are_counted()
    {
        var program = Qualifying("""{ "metric": "points" }""", """[ { "id": "visit", "type": "bonus", "points": 5 } ]""", PointTiers);
        var member = new MemberState { Tier = "member", LifetimeSpendMinor = 10_000_000, Counters = Counters(("k.pl", 475)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 4, 1), Line(2_000)));

        Assert.Equal(25, outcome.PointsEarned);
        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.pl", 25L)], outcome.Deltas());
        Assert.Equal(1_500, outcome.Progress!.Value.Remaining);
    }

    [Fact]
    public void On_the_points_metric_spend_alone_does_not_qualify()
    {
        var program = Qualifying("""{ "metric": "points" }""", tiers: PointTiers);
        var member = new MemberState { Tier = "member", LifetimeSpendMinor = 10_000_000, Counters = Counters(("k.pl", 470)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 4, 1), Line(2_000)));

        Assert.Equal("member", outcome.TierAfter.Id);
    }

    [Fact]
    public void A_rolling_period_sums_the_last_months_including_this_one()
    {
        var program = Qualifying("""{ "period": "rolling", "months": 3 }""");
        var member = new MemberState
        {
            Tier = "member",
            Counters = Counters(("k.q:202602", 150_000), ("k.q:202603", 20_000), ("k.q:202604", 20_000)),
        };

        var outcome = program.Score(member, BasketAt(Utc(2026, 5, 15), Line(10_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.q:202605", 10_000L)], outcome.Deltas());
        Assert.Equal(50_000, outcome.Progress!.Value.QualifyingValue);
    }

    [Fact]
    public void A_rolling_month_is_the_local_month()
    {
        var program = Qualifying("""{ "period": "rolling", "months": 3 }""");
        var member = new MemberState { Tier = "member", Counters = Counters(("k.q:202603", 45_000)) };

        // 31 May 22:30 UTC is 1 June 00:30 in Paris: March is out of the three months.
        var outcome = program.Score(member, BasketAt(Utc(2026, 5, 31, 22, 30), Line(10_000)));

        Assert.Equal("member", outcome.TierAfter.Id);
        Assert.Equal([("k.q:202606", 10_000L)], outcome.Deltas());
        Assert.Equal(10_000, outcome.Progress!.Value.QualifyingValue);
    }

    [Fact]
    public void A_rolling_period_on_points_counts_points_by_month()
    {
        var program = Qualifying("""{ "metric": "points", "period": "rolling", "months": 12 }""", tiers: PointTiers);
        var member = new MemberState { Tier = "member", Counters = Counters(("k.q:202510", 480)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 5, 15), Line(2_000)));

        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.q:202605", 20L)], outcome.Deltas());
    }

    [Fact]
    public void A_calendar_year_counts_only_this_years_months()
    {
        var program = Qualifying("""{ "period": "calendarYear" }""");
        var member = new MemberState { Tier = "member", Counters = Counters(("k.q:202512", 300_000), ("k.q:202601", 45_000)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 1, 10), Line(5_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.q:202601", 5_000L)], outcome.Deltas());
    }

    [Fact]
    public void Without_a_review_a_tier_earned_last_year_is_kept()
    {
        var program = Qualifying("""{ "period": "calendarYear" }""");
        var member = new MemberState { Tier = "gold", Counters = Counters(("k.q:202512", 300_000)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 3, 10), Line(10_000)));

        Assert.Equal("gold", outcome.TierBefore.Id);
        Assert.Equal("gold", outcome.TierAfter.Id);
        Assert.Empty(outcome.CounterSets);
    }

    [Fact]
    public void The_review_sets_the_tier_from_the_year_that_ended_and_can_downgrade()
    {
        var program = Qualifying("""{ "period": "calendarYear", "review": "01-01" }""");
        var member = new MemberState
        {
            Tier = "gold",
            Counters = Counters(("k.q:202503", 30_000), ("k.q:202511", 30_000), ("k.tr", 20250101)),
        };

        var outcome = program.Score(member, BasketAt(Utc(2026, 1, 15, 10), Line(10_000)));

        Assert.Equal("silver", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("base-earn", 100L), ("tier:silver", 25L)], outcome.Lines());
        Assert.Equal([("k.tr", 20260101L)], outcome.Sets());
    }

    [Fact]
    public void A_review_already_applied_is_not_applied_again()
    {
        var program = Qualifying("""{ "period": "calendarYear", "review": "01-01" }""");
        var member = new MemberState
        {
            Tier = "gold",
            Counters = Counters(("k.q:202503", 30_000), ("k.q:202511", 30_000), ("k.tr", 20260101)),
        };

        var outcome = program.Score(member, BasketAt(Utc(2026, 1, 15, 10), Line(10_000)));

        Assert.Equal("gold", outcome.TierBefore.Id);
        Assert.Empty(outcome.CounterSets);
    }

    [Theory]
    [InlineData(22, 59, 59, "gold", false)] // 31 December 23:59:59 in Paris: the review is not due yet
    [InlineData(23, 0, 0, "silver", true)] // 1 January 00:00 in Paris
    [InlineData(23, 30, 0, "silver", true)]
    public void The_review_date_is_a_local_date(int hour, int minute, int second, string tierBefore, bool reviewed)
    {
        var program = Qualifying("""{ "period": "calendarYear", "review": "01-01" }""");
        var member = new MemberState
        {
            Tier = "gold",
            Counters = Counters(("k.q:202503", 30_000), ("k.q:202511", 30_000), ("k.tr", 20250101)),
        };

        var outcome = program.Score(member, BasketAt(Utc(2025, 12, 31, hour, minute, second), Line(1_000)));

        Assert.Equal(tierBefore, outcome.TierBefore.Id);
        Assert.Equal(reviewed ? [("k.tr", 20260101L)] : [], outcome.Sets());
    }

    [Fact]
    public void A_review_with_nothing_qualifying_returns_to_the_entry_tier()
    {
        var program = Qualifying("""{ "period": "calendarYear", "review": "01-01" }""");
        var member = new MemberState { Tier = "gold", Counters = Counters(("k.tr", 20250101)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 2, 1), Line(1_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal([("base-earn", 10L)], outcome.Lines());
        Assert.Equal([("k.tr", 20260101L)], outcome.Sets());
    }

    [Fact]
    public void A_rolling_review_looks_at_the_months_before_the_review_date()
    {
        var program = Qualifying("""{ "period": "rolling", "months": 12, "review": "01-01" }""");
        var member = new MemberState
        {
            Tier = "gold",
            Counters = Counters(("k.q:202412", 500_000), ("k.q:202506", 60_000), ("k.tr", 20250101)),
        };

        var outcome = program.Score(member, BasketAt(Utc(2026, 3, 1), Line(1_000)));

        Assert.Equal("silver", outcome.TierBefore.Id);
        Assert.Equal([("k.tr", 20260101L)], outcome.Sets());
    }

    [Fact]
    public void The_purchase_that_applies_a_review_can_also_upgrade()
    {
        var program = Qualifying("""{ "period": "calendarYear", "review": "01-01" }""");
        var member = new MemberState { Tier = "gold", Counters = Counters(("k.q:202601", 45_000), ("k.tr", 20250101)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, 2, 1), Line(5_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.tr", 20260101L)], outcome.Sets());
    }
}
