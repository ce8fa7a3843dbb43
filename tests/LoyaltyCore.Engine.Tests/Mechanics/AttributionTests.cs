using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>What each award records so a return can take back exactly what the returned lines earned.</summary>
public sealed class AttributionTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static (int Line, long Points)[] Shares(BreakdownLine line) => [.. (line.Lines ?? []).Select(s => (s.Line, s.Points))];

    [Fact]
    public void The_base_earn_is_shared_among_the_lines_in_proportion_to_their_spend()
    {
        var outcome = Program().Score(Member(), BasketAt(At, Line(1_000), Line(3_000), Line(6_000)));

        Assert.Equal([(0, 10L), (1, 30L), (2, 60L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void Points_left_over_by_rounding_go_to_the_largest_remainders_and_the_shares_add_up()
    {
        // 10 points over 3 equal lines: 3.33 each, so one point is left over; equal remainders give it to the first.
        var outcome = Program("""
            "rules": [ { "id": "ten", "type": "multiplier", "factor": 2 } ]
            """).Score(Member(), BasketAt(At, Line(333), Line(333), Line(334)));
        var skewed = Program().Score(Member(), BasketAt(At, Line(149), Line(151), Line(700)));

        Assert.Equal([(0, 3L), (1, 3L), (2, 4L)], Shares(outcome.LineFor("base-earn")));
        Assert.Equal([(0, 3L), (1, 3L), (2, 4L)], Shares(outcome.LineFor("ten")));
        // 10 points: exact shares 1.49, 1.51 and 7: the floors give 9, the one left goes to 1.51.
        Assert.Equal([(0, 1L), (1, 2L), (2, 7L)], Shares(skewed.LineFor("base-earn")));
        Assert.Equal(skewed.LineFor("base-earn").Points, skewed.LineFor("base-earn").Lines!.Sum(s => s.Points));
    }

    [Fact]
    public void Equal_remainders_give_the_points_left_to_the_earlier_lines()
    {
        var outcome = Program().Score(Member(), BasketAt(At, Line(250), Line(250), Line(250), Line(250)));

        // 10 points over four lines of 2.5: two points left over, to lines 0 and 1.
        Assert.Equal([(0, 3L), (1, 3L), (2, 2L), (3, 2L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void Excluded_lines_earn_no_share()
    {
        var outcome = Program("""
            "exclusions": { "categories": ["gift-card"] }
            """).Score(Member(), BasketAt(At, Line(2_000), Line(5_000, category: "gift-card"), Line(1_000)));

        Assert.Equal([(0, 20L), (2, 10L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void A_line_multiplier_is_shared_only_among_the_lines_it_acts_on()
    {
        var outcome = Program("""
            "rules": [ { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } } ]
            """).Score(Member(), BasketAt(At, Line(1_000, category: "coffee"), Line(1_000, category: "tea"), Line(3_000, category: "coffee")));

        Assert.Equal([(0, 10L), (2, 30L)], Shares(outcome.LineFor("coffee-x2")));
        Assert.Equal(0, outcome.LineFor("coffee-x2").RequiredSpendMinor);
    }

    [Fact]
    public void The_tier_multiplier_is_shared_like_the_base_earn()
    {
        var outcome = Program().Score(Member(lifetimeSpendMinor: 60_000, tier: "silver"), BasketAt(At, Line(4_000), Line(12_000)));

        Assert.Equal([(0, 10L), (1, 30L)], Shares(outcome.Breakdown[1]));
    }

    [Fact]
    public void A_bonus_records_the_spend_it_needed_and_no_lines()
    {
        var outcome = Program("""
            "rules": [
              { "id": "plain", "type": "bonus", "points": 5 },
              { "id": "min", "type": "bonus", "points": 6, "minimumSpend": 3000 },
              { "id": "cond", "type": "bonus", "points": 7, "when": { "all": [ { "channels": ["store"] }, { "basketTotalAtLeast": 4000 } ] } },
              { "id": "both", "type": "bonus", "points": 8, "minimumSpend": 2000, "when": { "basketTotalAtLeast": 4500 } },
              { "id": "either", "type": "bonus", "points": 9, "when": { "any": [ { "basketTotalAtLeast": 1000 }, { "basketTotalAtLeast": 4000 } ] } },
              { "id": "not-spend", "type": "bonus", "points": 1, "when": { "any": [ { "basketTotalAtLeast": 1000 }, { "channels": ["store"] } ] } }
            ]
            """).Score(Member(), BasketAt(At, Line(5_000)));

        Assert.Null(outcome.LineFor("plain").Lines);
        Assert.Equal(1, outcome.LineFor("plain").RequiredSpendMinor);
        Assert.Equal(3_000, outcome.LineFor("min").RequiredSpendMinor);
        Assert.Equal(4_000, outcome.LineFor("cond").RequiredSpendMinor);
        Assert.Equal(4_500, outcome.LineFor("both").RequiredSpendMinor);
        Assert.Equal(1_000, outcome.LineFor("either").RequiredSpendMinor);
        Assert.Equal(1, outcome.LineFor("not-spend").RequiredSpendMinor);
        Assert.All(outcome.Breakdown.Skip(1), b => Assert.Null(b.RequiredCounter));
    }

    [Fact]
    public void A_campaign_award_names_its_campaign()
    {
        var outcome = Program("""
            "campaigns": [ { "id": "bf", "rules": [
                { "id": "bf-x3", "type": "multiplier", "factor": 3 }, { "id": "bf-visit", "type": "bonus", "points": 30 } ] } ]
            """).Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Null(outcome.LineFor("base-earn").CampaignId);
        Assert.Equal(("bf", "bf"), (outcome.LineFor("bf-x3").CampaignId, outcome.LineFor("bf-visit").CampaignId));
        Assert.Equal([(0, 20L)], Shares(outcome.LineFor("bf-x3")));
    }

    [Fact]
    public void An_objective_step_records_the_years_spend_that_reaches_it()
    {
        var outcome = Program("""
            "objectives": [ { "id": "ca", "steps": [ { "percent": 100, "points": 1000 }, { "percent": 110, "points": 1500 } ] } ]
            """).Score(new MemberState { ReferenceRevenueMinor = 100_001, Counters = Counters(("k.y:2026", 95_000)) }, BasketAt(At, Line(20_000)));

        Assert.Equal(("k.y:2026", 100_001L), (outcome.LineFor("ca@100").RequiredCounter, outcome.LineFor("ca@100").RequiredSpendMinor));
        // 110% of 1,000.01: 1,100.011, so 1,100.02 is the least spend that reaches it.
        Assert.Equal(110_002, outcome.LineFor("ca@110").RequiredSpendMinor);
        Assert.Null(outcome.LineFor("ca@100").Lines);
    }

    [Fact]
    public void An_upgrade_bonus_records_no_requirement_so_it_stands()
    {
        var outcome = Program("""
            "rules": [ { "id": "welcome-silver", "type": "event", "event": "tier_reached", "points": 250 } ]
            """).Score(Member(lifetimeSpendMinor: 49_000), BasketAt(At, Line(2_000)));

        var bonus = outcome.LineFor("welcome-silver");
        Assert.Equal((0L, null, null), (bonus.RequiredSpendMinor, bonus.Lines, bonus.RequiredCounter));
    }

    [Fact]
    public void The_referral_welcome_bonus_records_the_spend_it_needed()
    {
        var outcome = Program("""
            "referral": { "refereePoints": 100, "referrerPoints": 200, "minimumSpend": 2500 }
            """).Score(new MemberState { ReferredBy = "friend" }, BasketAt(At, Line(3_000)));

        Assert.Equal(2_500, Assert.Single(outcome.Breakdown, b => b.Lines is null).RequiredSpendMinor);
    }

    [Fact]
    public void A_capped_award_shares_what_the_cap_left()
    {
        var outcome = Program("""
            "caps": { "perTransaction": 7 }
            """).Score(Member(), BasketAt(At, Line(1_000), Line(1_000)));

        Assert.Equal([(0, 4L), (1, 3L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void An_award_on_lines_without_spend_records_no_lines()
    {
        var evaluationOutcome = Program("""
            "rules": [ { "id": "tea", "type": "multiplier", "factor": 2, "lines": { "categories": ["tea"] } } ]
            """).Score(Member(), BasketAt(At, Line(1_000, category: "coffee")));

        Assert.DoesNotContain(evaluationOutcome.Breakdown, b => b.RuleId == "tea");
        Assert.Equal([(0, 10L)], Shares(evaluationOutcome.LineFor("base-earn")));
    }

    [Fact]
    public void A_multiplier_records_what_its_basket_and_its_own_lines_needed()
    {
        var outcome = Program("""
            "rules": [
              { "id": "all-x2", "type": "multiplier", "factor": 2, "minimumSpend": 3000, "when": { "basketTotalAtLeast": 4000 } },
              { "id": "min-only", "type": "multiplier", "factor": 2, "minimumSpend": 3000 },
              { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] }, "minimumSpend": 1000,
                "when": { "basketTotalAtLeast": 4500 } }
            ]
            """).Score(Member(), BasketAt(At, Line(2_000, category: "coffee"), Line(3_000)));

        Assert.Equal((4_000L, 0L), (outcome.LineFor("all-x2").RequiredSpendMinor, outcome.LineFor("all-x2").RequiredLinesSpendMinor));
        Assert.Equal((3_000L, 0L), (outcome.LineFor("min-only").RequiredSpendMinor, outcome.LineFor("min-only").RequiredLinesSpendMinor));
        Assert.Equal((4_500L, 1_000L), (outcome.LineFor("coffee-x2").RequiredSpendMinor, outcome.LineFor("coffee-x2").RequiredLinesSpendMinor));
    }

    [Fact]
    public void The_base_earn_records_the_base_rates_minimum_spend()
    {
        var outcome = Program().Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Equal(0, outcome.LineFor("base-earn").RequiredSpendMinor);
        var gated = Programs.ProgramParser.Parse(Json().Replace("\"rounding\": \"floor\" }", "\"rounding\": \"floor\", \"minimumSpend\": 500 }", StringComparison.Ordinal))
            .Score(Member(lifetimeSpendMinor: 60_000, tier: "silver"), BasketAt(At, Line(1_000)));
        Assert.Equal((500L, 500L), (gated.LineFor("base-earn").RequiredSpendMinor, gated.Breakdown[1].RequiredSpendMinor));
    }

    [Fact]
    public void A_free_line_gets_no_share()
    {
        var outcome = Program().Score(Member(), BasketAt(At, Line(1_000), Line(0, sku: "free"), Line(2_000)));

        Assert.Equal([(0, 10L), (2, 20L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void An_award_of_nothing_leaves_the_award_before_it_as_it_was()
    {
        // A referral that gives the referred member nothing adds no line: the base earn before it keeps no requirement.
        var outcome = Program("""
            "referral": { "refereePoints": 0, "referrerPoints": 200, "minimumSpend": 2500 }
            """).Score(new MemberState { ReferredBy = "friend" }, BasketAt(At, Line(3_000)));

        var base_ = Assert.Single(outcome.Breakdown);
        Assert.Equal((0L, 0L), (base_.RequiredSpendMinor, base_.RequiredLinesSpendMinor));
        Assert.NotNull(outcome.ReferrerReward);
    }

    [Fact]
    public void Shares_beyond_64_bits_of_points_times_spend_are_still_exact()
    {
        // 10^12 points over two lines of 5 x 10^11 minor units: their product needs 79 bits.
        var outcome = Programs.ProgramParser.Parse(Json().Replace("\"perMinor\": 100", "\"perMinor\": 1", StringComparison.Ordinal))
            .Score(Member(), BasketAt(At, Line(500_000_000_000), Line(499_999_999_999), Line(1)));

        Assert.Equal([(0, 500_000_000_000L), (1, 499_999_999_999L), (2, 1L)], Shares(outcome.LineFor("base-earn")));
    }

    [Fact]
    public void Breakdown_lines_are_equal_by_value_shares_included()
    {
        BreakdownLine Make(long points = 5, string reason = "r", long required = 1, string? campaign = "c", string? counter = null, long linesRequired = 0, params LineShare[] shares) =>
            new("rule", points, reason, shares.Length == 0 ? null : shares, required, campaign, counter, linesRequired);

        var line = Make(shares: [new LineShare(0, 5)]);

        Assert.Equal(line, Make(shares: [new LineShare(0, 5)]));
        Assert.Equal(line.GetHashCode(), Make(shares: [new LineShare(0, 5)]).GetHashCode());
        Assert.NotEqual(line, Make(shares: [new LineShare(1, 5)]));
        Assert.NotEqual(line, Make());
        Assert.NotEqual(line, Make(points: 6, shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line, Make(reason: "s", shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line, Make(required: 2, shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line, Make(campaign: "d", shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line, Make(counter: "k.y:2026", shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line, Make(linesRequired: 3, shares: [new LineShare(0, 5)]));
        Assert.NotEqual(line with { RuleId = "other" }, line);
        Assert.Equal(Make(), Make());
    }
}
