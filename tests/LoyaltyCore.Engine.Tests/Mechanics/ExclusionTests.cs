using LoyaltyCore.Engine.Programs;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class ExclusionTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram Excluding(string rules = "[]") => Program($$"""
        "exclusions": { "categories": ["gift-card", "tobacco"], "skus": ["BAG-10C"] },
        "rules": {{rules}}
        """);

    [Fact]
    public void Excluded_categories_and_skus_earn_nothing_but_remain_in_the_spend()
    {
        var outcome = Excluding().Score(Member(), BasketAt(At,
            Line(5_000),
            Line(5_000, category: "gift-card", sku: "GC-50"),
            Line(1_000, category: "tobacco", sku: "TOB-1"),
            Line(10, sku: "BAG-10C", quantity: 2)));

        Assert.Equal(11_020, outcome.SpendMinor);
        Assert.Equal(5_000, outcome.EligibleSpendMinor);
        Assert.Equal(50, outcome.PointsEarned);
        Assert.Equal([("base-earn", 50L)], outcome.Lines());
    }

    [Fact]
    public void A_basket_of_only_excluded_lines_earns_nothing_and_has_no_breakdown()
    {
        var outcome = Excluding().Score(Member(), BasketAt(At, Line(20_000, category: "gift-card"), Line(500, sku: "BAG-10C")));

        Assert.Equal(0, outcome.EligibleSpendMinor);
        Assert.Equal(0, outcome.PointsEarned);
        Assert.Empty(outcome.Breakdown);
    }

    [Fact]
    public void An_excluded_sku_does_not_earn_even_in_an_earning_category()
    {
        var outcome = Excluding().Score(Member(), BasketAt(At, Line(300, category: "grocery", sku: "BAG-10C", quantity: 10), Line(700)));

        Assert.Equal(700, outcome.EligibleSpendMinor);
        Assert.Equal(7, outcome.PointsEarned);
    }

    [Theory]
    [InlineData(9_999, false)]
    [InlineData(10_000, true)]
    public void Basket_total_threshold_counts_only_eligible_spend(long eligibleMinor, bool fires)
    {
        var program = Excluding("""[ { "id": "big-basket", "type": "bonus", "points": 100, "when": { "basketTotalAtLeast": 10000 } } ]""");

        // The gift card alone would lift the raw total far past the threshold.
        var outcome = program.Score(Member(), BasketAt(At, Line(eligibleMinor), Line(50_000, category: "gift-card")));

        Assert.Equal(fires, outcome.Breakdown.Any(b => b.RuleId == "big-basket"));
        Assert.Equal((eligibleMinor / 100) + (fires ? 100 : 0), outcome.PointsEarned);
    }

    [Fact]
    public void A_multiplier_aimed_at_an_excluded_category_adds_nothing()
    {
        var program = Excluding("""[ { "id": "gift-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["gift-card"] } } ]""");

        var outcome = program.Score(Member(), BasketAt(At, Line(5_000, category: "gift-card"), Line(1_000)));

        Assert.Equal([("base-earn", 10L)], outcome.Lines());
    }

    [Fact]
    public void Basket_contains_ignores_excluded_lines()
    {
        var program = Excluding("""[ { "id": "smoker", "type": "bonus", "points": 10, "when": { "basketContains": { "categories": ["tobacco"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At, Line(1_000, category: "tobacco"), Line(1_000)));

        Assert.Equal([("base-earn", 10L)], outcome.Lines());
    }

    [Fact]
    public void Excluded_spend_still_counts_towards_tier_qualification()
    {
        var outcome = Excluding().Score(Member(45_000), BasketAt(At, Line(1_000), Line(4_000, category: "gift-card")));

        Assert.Equal(10, outcome.PointsEarned);
        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
    }
}
