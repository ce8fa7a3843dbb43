using LoyaltyCore.Engine.Programs;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class LabelTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram WithRules(string rules, string exclusions = "") => Program($$"""
        {{(exclusions.Length == 0 ? "" : $"\"exclusions\": {exclusions},")}}
        "rules": {{rules}}
        """);

    [Fact]
    public void A_multiplier_on_a_label_acts_only_on_the_lines_carrying_it_with_an_accepted_value()
    {
        var program = WithRules("""[ { "id": "red", "type": "multiplier", "factor": 2, "lines": { "labels": { "color": ["red", "crimson"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At,
            Labelled(1_000, "color=red"),
            Labelled(2_000, "color=crimson", "season=winter"),
            Labelled(4_000, "color=blue"),
            Line(8_000)));

        Assert.Equal([("base-earn", 150L), ("red", 30L)], outcome.Lines());
    }

    [Fact]
    public void Every_key_of_a_label_selector_must_match_on_the_same_line()
    {
        var program = WithRules("""[ { "id": "red-summer", "type": "multiplier", "factor": 3, "lines": { "labels": { "color": ["red"], "season": ["summer"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At,
            Labelled(1_000, "color=red", "season=summer"),
            Labelled(2_000, "color=red", "season=winter"),
            Labelled(4_000, "season=summer")));

        Assert.Equal(20, outcome.LineFor("red-summer").Points);
    }

    [Fact]
    public void A_star_accepts_any_value_of_its_key_but_not_a_line_without_the_key()
    {
        var program = WithRules("""[ { "id": "promo", "type": "multiplier", "factor": 2, "lines": { "labels": { "promo": ["*"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At, Labelled(1_000, "promo=SPRING24"), Labelled(2_000, "promo=X"), Labelled(4_000, "color=red")));

        Assert.Equal(30, outcome.LineFor("promo").Points);
    }

    [Fact]
    public void Label_values_are_compared_exactly()
    {
        var program = WithRules("""[ { "id": "red", "type": "multiplier", "factor": 2, "lines": { "labels": { "color": ["red"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At, Labelled(1_000, "color=Red"), Labelled(2_000, "Color=red")));

        Assert.DoesNotContain(outcome.Breakdown, b => b.RuleId == "red");
    }

    [Fact]
    public void Except_labels_leaves_out_the_lines_carrying_any_of_them()
    {
        var program = WithRules("""
            [ { "id": "acme", "type": "multiplier", "factor": 2,
                "lines": { "brands": ["house"], "exceptLabels": { "clearance": ["*"], "promo": ["STAFF"] } } } ]
            """);

        var outcome = program.Score(Member(), BasketAt(At,
            Labelled(1_000, "clearance=yes"),
            Labelled(2_000, "promo=STAFF"),
            Labelled(4_000, "promo=SPRING24"),
            Line(8_000)));

        Assert.Equal(120, outcome.LineFor("acme").Points);
        Assert.Equal(150, outcome.LineFor("base-earn").Points);
    }

    [Fact]
    public void A_filter_of_except_labels_alone_acts_on_every_other_line()
    {
        var program = WithRules("""[ { "id": "full-price", "type": "multiplier", "factor": 2, "lines": { "exceptLabels": { "clearance": ["*"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At, Labelled(1_000, "clearance=yes"), Line(2_000), Labelled(4_000, "color=red")));

        Assert.Equal(60, outcome.LineFor("full-price").Points);
    }

    [Fact]
    public void Excluded_labels_remove_a_line_from_earning_but_not_from_the_spend()
    {
        var program = WithRules("[]", """{ "labels": { "promo": ["STAFF", "FREE"] } }""");

        var outcome = program.Score(Member(), BasketAt(At, Labelled(1_000, "promo=STAFF"), Labelled(2_000, "promo=FREE"), Labelled(4_000, "promo=SPRING24"), Line(8_000)));

        Assert.Equal(15_000, outcome.SpendMinor);
        Assert.Equal(12_000, outcome.EligibleSpendMinor);
        Assert.Equal([("base-earn", 120L)], outcome.Lines());
    }

    [Fact]
    public void Basket_contains_matches_a_label_on_an_earning_line_only()
    {
        var program = WithRules(
            """[ { "id": "code", "type": "bonus", "points": 75, "when": { "basketContains": { "labels": { "promo": ["SPRING24"] } } } } ]""",
            """{ "categories": ["gift-card"] }""");

        var fires = program.Score(Member(), BasketAt(At, Line(1_000), Labelled(500, "promo=SPRING24")));
        var excluded = program.Score(Member(), BasketAt(At, Line(1_000), Labelled(500, "promo=SPRING24") with { Category = "gift-card" }));
        var absent = program.Score(Member(), BasketAt(At, Line(1_000), Labelled(500, "promo=SUMMER")));

        Assert.Equal(75, fires.LineFor("code").Points);
        Assert.DoesNotContain(excluded.Breakdown, b => b.RuleId == "code");
        Assert.DoesNotContain(absent.Breakdown, b => b.RuleId == "code");
    }

    [Fact]
    public void Labels_and_categories_in_one_filter_must_both_match()
    {
        var program = WithRules("""[ { "id": "summer-shoes", "type": "multiplier", "factor": 2, "lines": { "categories": ["shoes"], "labels": { "season": ["summer"] } } } ]""");

        var outcome = program.Score(Member(), BasketAt(At,
            Labelled(1_000, "season=summer") with { Category = "shoes" },
            Labelled(2_000, "season=summer"),
            Line(4_000, category: "shoes")));

        Assert.Equal(10, outcome.LineFor("summer-shoes").Points);
    }

    [Theory]
    [InlineData("""{ "labels": {} }""", "rules[0].lines.labels: name at least one label key")]
    [InlineData("""{ "labels": { "color": [] } }""", "rules[0].lines.labels.color: an array of at least one accepted value (\"*\" accepts any)")]
    [InlineData("""{ "labels": { "color": "red" } }""", "rules[0].lines.labels.color: an array of non-empty strings")]
    [InlineData("""{ "labels": { "bad key": ["x"] } }""", "rules[0].lines.labels.bad key: a label key is 1-64 characters of letters, digits, '.', '_', ':' or '-'")]
    [InlineData("""{ "exceptLabels": [ "clearance" ] }""", "rules[0].lines.exceptLabels: an object")]
    public void Invalid_label_selectors_are_reported_by_path(string lines, string error)
    {
        var errors = Errors(Json($$"""
            "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": {{lines}} } ]
            """));

        Assert.Contains(error, errors);
    }

    [Fact]
    public void An_empty_line_filter_names_the_label_parts_it_accepts()
    {
        var errors = Errors(Json("""
            "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": {} } ]
            """));

        Assert.Contains("rules[0].lines: name at least one of categories, brands, skus, labels, exceptLabels", errors);
    }
}
