using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class MultiplierTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    [Fact]
    public void A_category_multiplier_acts_only_on_lines_of_that_category()
    {
        var program = Program("""
            "rules": [ { "id": "coffee-x2", "name": "Coffee x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(1_000, category: "coffee"), Line(1_000, category: "tea")));

        Assert.Equal([("base-earn", 20L), ("coffee-x2", 10L)], outcome.Lines());
        Assert.Equal("Coffee x2", outcome.LineFor("coffee-x2").Reason);
        Assert.Equal(30, outcome.PointsEarned);
    }

    [Fact]
    public void A_brand_multiplier_acts_only_on_lines_of_that_brand()
    {
        var program = Program("""
            "rules": [ { "id": "acme", "type": "multiplier", "factor": 1.5, "lines": { "brands": ["acme"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(2_000, brand: "acme"), Line(1_000, brand: "other")));

        Assert.Equal([("base-earn", 30L), ("acme", 10L)], outcome.Lines());
        Assert.Equal("x1.5 bonus", outcome.LineFor("acme").Reason);
    }

    [Fact]
    public void A_sku_multiplier_acts_on_the_whole_quantity_of_that_sku()
    {
        var program = Program("""
            "rules": [ { "id": "sku-x3", "type": "multiplier", "factor": 3, "lines": { "skus": ["SKU-42"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(500, sku: "SKU-42", quantity: 2), Line(1_000, sku: "SKU-7")));

        Assert.Equal([("base-earn", 20L), ("sku-x3", 20L)], outcome.Lines());
    }

    [Fact]
    public void A_line_filter_naming_category_and_brand_needs_both()
    {
        var program = Program("""
            "rules": [ { "id": "acme-coffee", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"], "brands": ["acme"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At,
            Line(1_000, category: "coffee", brand: "acme"),
            Line(1_000, category: "coffee", brand: "other"),
            Line(1_000, category: "tea", brand: "acme")));

        Assert.Equal([("base-earn", 30L), ("acme-coffee", 10L)], outcome.Lines());
    }

    [Theory]
    [InlineData(Channel.MobileApp, 40)]
    [InlineData(Channel.Web, 20)]
    [InlineData(Channel.Store, 20)]
    public void A_channel_multiplier_applies_to_the_whole_basket_on_that_channel(Channel channel, long expected)
    {
        var program = Program("""
            "rules": [ { "id": "app-x2", "type": "multiplier", "factor": 2, "when": { "channels": ["mobile_app"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, channel, "store-1", Line(1_500, category: "coffee"), Line(500)));

        Assert.Equal(expected, outcome.PointsEarned);
    }

    [Theory]
    [InlineData("paris-01", 30)]
    [InlineData("lyon-02", 20)]
    public void A_store_multiplier_applies_only_in_that_store(string store, long expected)
    {
        var program = Program("""
            "rules": [ { "id": "flagship", "type": "multiplier", "factor": 1.5, "when": { "stores": ["paris-01"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Channel.Store, store, Line(2_000)));

        Assert.Equal(expected, outcome.PointsEarned);
    }

    [Fact]
    public void Multipliers_add_up_a_gold_exclusive_x2_and_the_gold_tier_x1_5_make_x2_5()
    {
        var program = Program("""
            "rules": [ { "id": "gold-x2", "type": "multiplier", "factor": 2, "when": { "tiers": ["gold"] } } ]
            """);

        var outcome = program.Score(Member(250_000, "gold"), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L), ("tier:gold", 50L), ("gold-x2", 100L)], outcome.Lines());
        Assert.Equal(250, outcome.PointsEarned);
    }

    [Fact]
    public void A_tier_exclusive_rule_does_not_fire_for_another_tier()
    {
        var program = Program("""
            "rules": [ { "id": "gold-x2", "type": "multiplier", "factor": 2, "when": { "tiers": ["gold"] } } ]
            """);

        var outcome = program.Score(Member(60_000, "silver"), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L), ("tier:silver", 25L)], outcome.Lines());
    }

    [Fact]
    public void A_tier_exclusive_rule_uses_the_tier_held_before_the_purchase_that_upgrades()
    {
        var program = Program("""
            "rules": [ { "id": "gold-x2", "type": "multiplier", "factor": 2, "when": { "tiers": ["gold"] } } ]
            """);

        var outcome = program.Score(Member(195_000, "silver"), BasketAt(At, Line(10_000)));

        Assert.Equal("gold", outcome.TierAfter.Id);
        Assert.Equal([("base-earn", 100L), ("tier:silver", 25L)], outcome.Lines());
    }

    [Theory]
    [InlineData("floor", 19, 9, 19, 47)]
    [InlineData("half_up", 20, 10, 20, 50)]
    public void Each_multiplier_line_is_rounded_once_on_its_own_exact_product(string rounding, long baseEarn, long tier, long coffee, long total)
    {
        var program = Program(
            """
            "rules": [ { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } } ]
            """,
            rounding: rounding);

        // 19.90 EUR: base 19.9, gold extra 9.95, coffee extra 19.9; never compounded (x3 would be 59.7).
        var outcome = program.Score(Member(250_000, "gold"), BasketAt(At, Line(1_990, category: "coffee")));

        Assert.Equal([("base-earn", baseEarn), ("tier:gold", tier), ("coffee-x2", coffee)], outcome.Lines());
        Assert.Equal(total, outcome.PointsEarned);
    }

    [Fact]
    public void A_multiplier_is_computed_from_spend_not_from_the_rounded_base()
    {
        var program = Program("""
            "rules": [ { "id": "x1.3", "type": "multiplier", "factor": 1.3 } ]
            """);

        // 3.50 EUR: base floor(3.5) = 3; the extra is floor(3.5 x 0.3 = 1.05) = 1, not floor(3 x 0.3) = 0.
        var outcome = program.Score(Member(), BasketAt(At, Line(350)));

        Assert.Equal([("base-earn", 3L), ("x1.3", 1L)], outcome.Lines());
    }

    [Fact]
    public void A_multiplier_with_nothing_to_act_on_adds_no_line()
    {
        var program = Program("""
            "rules": [ { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(1_000, category: "tea")));

        Assert.Equal([("base-earn", 10L)], outcome.Lines());
    }

    [Fact]
    public void Several_matching_multipliers_each_add_their_own_extra()
    {
        var program = Program("""
            "rules": [
              { "id": "coffee-x2", "type": "multiplier", "factor": 2, "lines": { "categories": ["coffee"] } },
              { "id": "acme-x1.5", "type": "multiplier", "factor": 1.5, "lines": { "brands": ["acme"] } },
              { "id": "app-x1.25", "type": "multiplier", "factor": 1.25, "when": { "channels": ["mobile_app"] } }
            ]
            """);

        var outcome = program.Score(Member(), BasketAt(At, Channel.MobileApp, "web-1", Line(4_000, category: "coffee", brand: "acme"), Line(2_000)));

        // 40.00 coffee/acme: x1 + 1 + 0.5 + 0.25; 20.00 other: x1 + 0.25.
        Assert.Equal([("base-earn", 60L), ("coffee-x2", 40L), ("acme-x1.5", 20L), ("app-x1.25", 15L)], outcome.Lines());
        Assert.Equal(135, outcome.PointsEarned);
    }
}
