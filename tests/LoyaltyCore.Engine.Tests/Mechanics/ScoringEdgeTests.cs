using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>Cases at the seams between mechanics: dates, several campaigns, caps and budgets inside one purchase.</summary>
public sealed class ScoringEdgeTests
{
    [Fact]
    public void One_program_scoring_past_midnight_counts_the_new_day_under_its_own_keys()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 1000 },
            "rules": [ { "id": "second-today", "type": "bonus", "points": 5, "when": { "nthPurchase": { "n": 2, "period": "day" } } } ]
            """);

        var before = program.Score(Member(), BasketAt(Utc(2026, 3, 10, 23, 59, 59), Line(1_000)));
        var after = program.Score(new MemberState { Tier = "member", Counters = Counters(("k.d:20260310", 10), ("k.nd:20260310", 1)) },
            BasketAt(Utc(2026, 3, 11, 0, 0, 1), Line(1_000)));

        Assert.Equal([("k.d:20260310", 10L), ("k.nd:20260310", 1L)], before.Deltas());
        Assert.Equal([("k.d:20260311", 10L), ("k.nd:20260311", 1L)], after.Deltas());
        Assert.Equal(["k.d:20260310", "k.nd:20260310"], after.StaleCounters);
        Assert.DoesNotContain(after.Breakdown, b => b.RuleId == "second-today");
    }

    [Fact]
    public void Two_campaigns_awarding_in_one_purchase_are_each_drawn_and_counted()
    {
        var program = Program("""
            "campaigns": [
              { "id": "spring", "budget": 1000, "rules": [ { "id": "spring-visit", "type": "bonus", "points": 30 } ] },
              { "id": "locals", "perMemberCap": 500, "rules": [ { "id": "locals-visit", "type": "bonus", "points": 20 } ] }
            ]
            """);

        var outcome = program.Score(Member(), BasketAt(Utc(2026, 3, 10), Line(1_000)), new Dictionary<string, long> { ["spring"] = 1000 });

        Assert.Equal([new CampaignAward("spring", 30), new CampaignAward("locals", 20)], outcome.CampaignAwards);
        Assert.Equal(30, outcome.Delta("k.c:spring"));
        Assert.Equal(20, outcome.Delta("k.c:locals"));
    }

    [Fact]
    public void A_daily_cap_cuts_a_later_line_of_the_same_purchase_and_zeroes_the_ones_after()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 100 },
            "rules": [ { "id": "first", "type": "bonus", "points": 80 }, { "id": "second", "type": "bonus", "points": 10 } ]
            """);

        var outcome = program.Score(Member(), BasketAt(Utc(2026, 3, 10), Line(6_000)));

        Assert.Equal([("base-earn", 60L), ("first", 40L), ("second", 0L)], outcome.Lines());
        Assert.Equal("80 bonus points (limited by the daily cap)", outcome.LineFor("first").Reason);
        Assert.Equal("10 bonus points (limited by the daily cap)", outcome.LineFor("second").Reason);
        Assert.Equal(100, outcome.Delta("k.d:20260310"));
    }

    [Fact]
    public void Two_rules_of_one_campaign_share_what_is_left_of_its_budget()
    {
        var program = Program("""
            "campaigns": [ { "id": "spring", "budget": 10000,
              "rules": [ { "id": "a", "type": "bonus", "points": 30 }, { "id": "b", "type": "bonus", "points": 40 }, { "id": "c", "type": "bonus", "points": 5 } ] } ]
            """);

        var outcome = program.Score(Member(), BasketAt(Utc(2026, 3, 10), Line(1_000)), new Dictionary<string, long> { ["spring"] = 50 });

        Assert.Equal([("base-earn", 10L), ("a", 30L), ("b", 20L), ("c", 0L)], outcome.Lines());
        Assert.Equal("40 bonus points (limited by the campaign budget)", outcome.LineFor("b").Reason);
        Assert.Equal([new CampaignAward("spring", 50)], outcome.CampaignAwards);
    }

    [Fact]
    public void A_base_rate_of_several_points_scales_the_base_and_every_multiplier()
    {
        var program = ProgramParser.Parse(Json("""
            "rules": [ { "id": "double", "type": "multiplier", "factor": 2 } ]
            """).Replace("\"points\": 1, \"perMinor\": 100", "\"points\": 3, \"perMinor\": 200", StringComparison.Ordinal));

        var outcome = program.Score(Member(tier: "gold"), BasketAt(Utc(2026, 3, 10), Line(1_050)));

        // 10.50 EUR at 3 points per 2.00: 15.75 base (floor 15), gold x1.5 adds 7.875 (7), x2 adds 15.75 (15).
        Assert.Equal([("base-earn", 15L), ("tier:gold", 7L), ("double", 15L)], outcome.Lines());
    }

    [Theory]
    [InlineData(6, 30, "gold", null)]
    [InlineData(7, 1, "member", 20260701)]
    public void A_review_on_the_first_of_july_drops_the_tier_on_that_date_and_not_before(int month, int day, string tier, int? review)
    {
        var program = ProgramParser.Parse(Json("""
            "tierQualification": { "metric": "spend", "period": "rolling", "months": 12, "review": "07-01" }
            """));
        var member = new MemberState { Tier = "gold", Counters = Counters((CounterKeys.TierReview, 20250701)) };

        var outcome = program.Score(member, BasketAt(Utc(2026, month, day), Line(1_000)));

        Assert.Equal(tier, outcome.TierBefore.Id);
        Assert.Equal(review is null ? [] : [(CounterKeys.TierReview, (long)review.Value)], outcome.Sets());
    }

    [Theory]
    [InlineData("k.nm:202602", true)]
    [InlineData("k.nm:202603", false)]
    [InlineData("k.nm:202604", false)]
    [InlineData("k.ny:2025", true)]
    [InlineData("k.ny:2026", false)]
    [InlineData("k.ed:20260309:review", true)]
    [InlineData("k.ed:20260310:review", false)]
    [InlineData("k.ew:202610:review", true)]
    [InlineData("k.ew:202611:review", false)]
    [InlineData("k.em:202602:review", true)]
    [InlineData("k.em:202603:review", false)]
    [InlineData("k.ey:2025:review", true)]
    [InlineData("k.ey:2026:review", false)]
    [InlineData("k.e:review", false)]
    [InlineData("k.q:202402", true)]
    [InlineData("k.q:202403", false)]
    [InlineData("k.y:2024", true)]
    [InlineData("k.y:2025", false)]
    [InlineData("k.o:ca:n1:2025:100", true)]
    [InlineData("k.o:ca:n1:2026:100", false)]
    [InlineData("k.pl", false)]
    public void The_rebuild_staleness_test_drops_only_past_periods(string key, bool stale)
    {
        Assert.Equal(stale, CounterStaleness.IsStale(key, new DateTime(2026, 3, 10, 12, 0, 0, DateTimeKind.Unspecified)));
    }
}
