using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class MinimumSpendTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram WithBaseMinimum(long minimum, string rules = "[]") => ProgramParser.Parse(Json($$"""
        "rules": {{rules}}
        """).Replace("\"rounding\": \"floor\" }", $"\"rounding\": \"floor\", \"minimumSpend\": {minimum} }}", StringComparison.Ordinal));

    [Theory]
    [InlineData(999, 0)]
    [InlineData(1_000, 10)]
    public void The_base_rate_earns_only_from_its_minimum_spend(long spend, long points)
    {
        var outcome = WithBaseMinimum(1_000).Score(Member(), BasketAt(At, Line(spend)));

        Assert.Equal(points, outcome.PointsEarned);
    }

    [Theory]
    [InlineData(900, new[] { "visit" })]
    [InlineData(1_000, new[] { "base-earn", "tier:gold", "membership:plus", "visit" })]
    public void Below_the_base_minimum_there_is_no_tier_or_membership_multiple_either_but_rules_still_fire(long spend, string[] rules)
    {
        var program = ProgramParser.Parse(Json("""
            "memberships": [ { "id": "plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 } ],
            "rules": [ { "id": "visit", "type": "bonus", "points": 5 } ]
            """).Replace("\"rounding\": \"floor\" }", "\"rounding\": \"floor\", \"minimumSpend\": 1000 }", StringComparison.Ordinal));
        var member = new MemberState { Tier = "gold", Membership = "plus", MembershipExpiresAt = At.AddDays(30) };

        var outcome = program.Score(member, BasketAt(At, Line(spend)));

        Assert.Equal(rules, outcome.Breakdown.Select(b => b.RuleId));
    }

    [Fact]
    public void The_base_minimum_counts_earning_spend_only()
    {
        var program = ProgramParser.Parse(Json("""
            "exclusions": { "categories": ["gift-card"] }
            """).Replace("\"rounding\": \"floor\" }", "\"rounding\": \"floor\", \"minimumSpend\": 1000 }", StringComparison.Ordinal));

        var outcome = program.Score(Member(), BasketAt(At, Line(500), Line(5_000, category: "gift-card")));

        Assert.Equal(0, outcome.PointsEarned);
    }

    [Theory]
    [InlineData(2_999, false)]
    [InlineData(3_000, true)]
    public void A_multiplier_with_lines_needs_its_minimum_spend_on_those_lines(long organicSpend, bool fires)
    {
        var program = Program("""
            "rules": [ { "id": "organic", "type": "multiplier", "factor": 2, "lines": { "categories": ["organic"] }, "minimumSpend": 3000 } ]
            """);

        // The rest of the basket lifts the total far above the minimum; only the organic lines count.
        var outcome = program.Score(Member(), BasketAt(At, Line(organicSpend, category: "organic"), Line(50_000)));

        Assert.Equal(fires ? organicSpend / 100 : 0, outcome.Breakdown.Where(b => b.RuleId == "organic").Sum(b => b.Points));
        Assert.Equal(fires, outcome.Breakdown.Any(b => b.RuleId == "organic"));
    }

    [Theory]
    [InlineData(4_999, false)]
    [InlineData(5_000, true)]
    public void A_multiplier_without_lines_and_a_bonus_need_their_minimum_on_the_basket(long spend, bool fires)
    {
        var program = Program("""
            "rules": [
              { "id": "double", "type": "multiplier", "factor": 2, "minimumSpend": 5000 },
              { "id": "bonus", "type": "bonus", "points": 40, "minimumSpend": 5000 }
            ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(spend)));

        Assert.Equal(fires ? [("base-earn", spend / 100), ("double", spend / 100), ("bonus", 40L)] : [("base-earn", spend / 100)], outcome.Lines());
    }

    [Fact]
    public void A_negative_minimum_spend_is_invalid()
    {
        var errors = Errors(Json("""
            "rules": [ { "id": "bonus", "type": "bonus", "points": 40, "minimumSpend": -1 } ]
            """));

        Assert.Contains("rules[0].minimumSpend: a whole number, at least 0", errors);
    }
}
