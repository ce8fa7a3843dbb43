using System.Collections.ObjectModel;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>What the engine promises its callers beyond the mechanics: argument checks, counter names, buffers, texts.</summary>
public sealed class EngineContractTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    [Fact]
    public void Null_arguments_are_refused_by_name()
    {
        var program = Program();
        var plan = Program("""
            "memberships": [ { "id": "p", "priceMinor": 1, "durationDays": 1 } ]
            """).FindMembership("p")!;

        Assert.Equal("member", Assert.Throws<ArgumentNullException>(() => program.RecordEvent(null!, "review_posted", At)).ParamName);
        Assert.Equal("eventName", Assert.Throws<ArgumentNullException>(() => program.RecordEvent(Member(), null!, At)).ParamName);
        Assert.Equal("segments", Assert.Throws<ArgumentNullException>(() => plan.PriceFor(null!)).ParamName);
        Assert.Equal("wanted", Assert.Throws<ArgumentNullException>(() => new LabelSelector(null!)).ParamName);
        Assert.Equal("evaluation", Assert.Throws<ArgumentNullException>(() => new BonusRule("b", "b", null, false, 1).Points(null!)).ParamName);
    }

    [Theory]
    [InlineData(199_912)]
    [InlineData(200_001)]
    [InlineData(202_512)]
    [InlineData(202_601)]
    [InlineData(219_912)]
    [InlineData(220_001)]
    [InlineData(202_600)]
    [InlineData(202_613)]
    public void Qualifying_month_keys_are_right_inside_and_outside_the_cached_years(int monthKey)
    {
        // Twice: the second read comes from the cache where there is one.
        Assert.Equal($"k.q:{monthKey}", CounterKeys.QualifyingMonth(monthKey));
        Assert.Equal($"k.q:{monthKey}", CounterKeys.QualifyingMonth(monthKey));
    }

    [Fact]
    public void Neighbouring_months_never_share_a_cached_key()
    {
        var keys = Enumerable.Range(2024, 3).SelectMany(y => Enumerable.Range(1, 12).Select(m => (y * 100) + m)).Select(CounterKeys.QualifyingMonth).ToList();

        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void An_event_counts_no_purchase_and_a_zero_metric_adds_no_counter()
    {
        var program = Program("""
            "tierQualification": { "metric": "spend", "period": "rolling", "months": 12 },
            "rules": [
              { "id": "third", "type": "bonus", "points": 5, "when": { "nthPurchase": { "n": 3, "period": "month" } } },
              { "id": "review", "type": "event", "event": "review_posted", "points": 20 }
            ]
            """);

        var outcome = program.RecordEvent(Member(), "review_posted", At);

        Assert.Empty(outcome.CounterDeltas);
    }

    [Fact]
    public void A_purchase_earning_nothing_on_points_qualification_adds_no_points_counter()
    {
        var program = Program("""
            "tierQualification": { "metric": "points" },
            "exclusions": { "categories": ["gift-card"] }
            """);

        var outcome = program.Score(Member(), BasketAt(At, Line(5_000, category: "gift-card")));

        Assert.Equal(0, outcome.PointsEarned);
        Assert.Empty(outcome.CounterDeltas);
    }

    [Fact]
    public void Stale_counters_are_found_whatever_dictionary_holds_the_counters()
    {
        var counters = new ReadOnlyDictionary<string, long>(new Dictionary<string, long> { ["k.d:20260309"] = 5, ["k.d:20260310"] = 3 });

        var purchase = Program().Score(new MemberState { Tier = "member", Counters = counters }, BasketAt(At, Line(1_000)));
        var review = Program("""
            "rules": [ { "id": "review", "type": "event", "event": "review_posted", "points": 20 } ]
            """).RecordEvent(new MemberState { Tier = "member", Counters = counters }, "review_posted", At);

        Assert.Equal(["k.d:20260309"], purchase.StaleCounters);
        Assert.Equal(["k.d:20260309"], review.StaleCounters);
    }

    [Fact]
    public void More_awards_than_the_working_buffer_holds_are_all_kept()
    {
        var rules = string.Join(",", Enumerable.Range(0, 40).Select(i => $$"""{ "id": "b{{i}}", "type": "bonus", "points": {{i + 1}} }"""));
        var program = Program($$""" "rules": [ {{rules}} ] """);

        var outcome = program.Score(Member(), BasketAt(At, Line(1_000)));
        var again = program.Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Equal(41, outcome.Breakdown.Count);
        Assert.Equal(10 + (40 * 41 / 2), outcome.PointsEarned);
        Assert.Equal(outcome.Lines(), again.Lines());
    }

    [Fact]
    public void A_basket_longer_than_the_working_buffer_is_evaluated_line_by_line()
    {
        var program = Program("""
            "exclusions": { "categories": ["gift-card"] },
            "rules": [ { "id": "organic", "type": "multiplier", "factor": 2, "lines": { "categories": ["organic"] } } ]
            """);
        var lines = Enumerable.Range(0, 24).Select(i => Line(100, category: i % 3 == 0 ? "organic" : i % 3 == 1 ? "gift-card" : "grocery")).ToArray();

        var outcome = program.Score(Member(), BasketAt(At, lines));
        var short_ = program.Score(Member(), BasketAt(At, Line(100, category: "gift-card")));

        Assert.Equal([("base-earn", 16L), ("organic", 8L)], outcome.Lines());
        // The buffer reused from the long basket must not leak its eligible lines into the next one.
        Assert.Equal(0, short_.PointsEarned);
    }

    [Fact]
    public void The_base_reason_shows_the_rate_in_major_units_of_the_currency()
    {
        var yen = ProgramParser.Parse(Json().Replace("\"currency\": \"EUR\"", "\"currency\": \"JPY\", \"currencyExponent\": 0", StringComparison.Ordinal));
        var euro = Program();

        Assert.Equal("1 pt per 100 JPY spent", yen.Score(Member(), BasketAt(At, Line(1_000))).LineFor("base-earn").Reason);
        Assert.Equal("1 pt per 1.00 EUR spent", euro.Score(Member(), BasketAt(At, Line(1_000))).LineFor("base-earn").Reason);
    }

    [Fact]
    public void A_validation_failure_names_every_problem_in_its_message()
    {
        var error = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse("""{ "id": "x" }"""));

        Assert.StartsWith("Invalid program: ", error.Message, StringComparison.Ordinal);
        Assert.Equal(string.Join("; ", error.Errors), error.Message["Invalid program: ".Length..]);
        Assert.True(error.Errors.Count > 1);
    }
}
