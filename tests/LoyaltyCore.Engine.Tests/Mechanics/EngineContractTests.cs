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
    [Fact]
    public void More_null_arguments_are_refused_by_name()
    {
        var program = Program();
        var multiplier = new MultiplierRule("m", "m", null, false, 20_000, null);

        Assert.Equal("member", Assert.Throws<ArgumentNullException>(() => program.Score(null!, BasketAt(At, Line(1)))).ParamName);
        Assert.Equal("basket", Assert.Throws<ArgumentNullException>(() => program.Score(Member(), null!)).ParamName);
        Assert.Equal("evaluation", Assert.Throws<ArgumentNullException>(() => multiplier.Points(null!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => CounterStaleness.IsStale(null!, new DateTime(2026, 3, 10, 0, 0, 0, DateTimeKind.Unspecified))).ParamName);
        Assert.Equal("member", Assert.Throws<ArgumentNullException>(() => program.TierPolicy.FloorAt(null!, DateTime.MinValue)).ParamName);
        Assert.Equal("member", Assert.Throws<ArgumentNullException>(() => program.TierPolicy.PointsResetBy(null!, null)).ParamName);
        Assert.Equal("member", Assert.Throws<ArgumentNullException>(() => program.TierPolicy.QualifyingValue(null!, DateTime.MinValue)).ParamName);
        Assert.Equal("tiers", Assert.Throws<ArgumentNullException>(() => new Tiers.TierLadder(null!)).ParamName);
    }

    [Fact]
    public void A_ladder_needs_a_first_tier_at_zero()
    {
        Assert.Throws<ArgumentException>(() => new Tiers.TierLadder([]));
        Assert.Throws<ArgumentException>(() => new Tiers.TierLadder([new Tiers.Tier("a", "A", 10, 10_000, 0)]));
    }

    [Fact]
    public void A_floor_holds_through_its_last_day_and_not_after()
    {
        var program = Program();
        var member = new MemberState { Tier = "member", TierFloor = "gold", TierFloorUntil = 20260310 };

        Assert.Equal("gold", program.TierPolicy.FloorAt(member, new DateTime(2026, 3, 10, 23, 59, 0, DateTimeKind.Unspecified))?.Id);
        Assert.Null(program.TierPolicy.FloorAt(member, new DateTime(2026, 3, 11, 0, 0, 0, DateTimeKind.Unspecified)));
    }

    [Fact]
    public void With_immediate_downgrades_the_tier_after_follows_a_lower_value_and_otherwise_keeps_the_tier_held()
    {
        var immediate = Program(""" "tierQualification": { "metric": "balance", "downgrade": "immediate" } """);
        var atReview = Program(""" "tierQualification": { "metric": "balance" } """);
        var silver = immediate.Tiers.Find("silver")!;
        var local = new DateTime(2026, 3, 10, 12, 0, 0, DateTimeKind.Unspecified);

        Assert.Equal("member", immediate.TierPolicy.After(Member(), local, silver, 100).Id);
        Assert.Equal("silver", atReview.TierPolicy.After(Member(), local, silver, 100).Id);
    }

    [Fact]
    public void A_reset_review_leaves_a_spend_qualification_alone()
    {
        var program = Program(""" "tierQualification": { "period": "rolling", "review": "01-01", "reviewReset": "all" } """);
        var member = new MemberState
        {
            Tier = "member", Balance = 5_000,
            Counters = Counters((CounterKeys.TierReview, 20250101), (CounterKeys.QualifyingMonth(202602), 10_000)),
        };

        var outcome = program.Score(member, BasketAt(At, Line(1_000)));

        Assert.Equal(5_000, outcome.PointsReset);
        Assert.Equal(11_000, outcome.Progress!.Value.QualifyingValue);
    }

    [Fact]
    public void An_event_earning_nothing_adds_nothing_to_a_count_since_the_last_tier_change()
    {
        var program = Program(""" "tierQualification": { "metric": "points", "period": "sinceLastTierChange" } """);

        Assert.Empty(program.RecordEvent(Member(), "review_posted", At).CounterDeltas);
    }

    [Fact]
    public void Campaigns_beyond_the_working_buffer_of_an_earlier_program_on_the_thread_are_counted()
    {
        var one = Program("""
            "campaigns": [ { "id": "a", "rules": [ { "id": "a1", "type": "bonus", "points": 1 } ] } ]
            """);
        var three = Program("""
            "campaigns": [
              { "id": "a", "rules": [ { "id": "a1", "type": "bonus", "points": 1 } ] },
              { "id": "b", "rules": [ { "id": "b1", "type": "bonus", "points": 2 } ] },
              { "id": "c", "rules": [ { "id": "c1", "type": "bonus", "points": 3 } ] }
            ]
            """);

        one.Score(Member(), BasketAt(At, Line(1_000)));
        var outcome = three.Score(Member(), BasketAt(At, Line(1_000)));
        var again = one.Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Equal([new CampaignAward("a", 1), new CampaignAward("b", 2), new CampaignAward("c", 3)], outcome.CampaignAwards);
        Assert.Equal([new CampaignAward("a", 1)], again.CampaignAwards);
    }

    [Fact]
    public void Basket_totals_exactly_at_the_int64_limit_are_accepted_and_beyond_it_refused()
    {
        const long price = long.MaxValue / 3;
        BasketLine[] atLimit = [new("a", "c", "b", 3, price)];
        BasketLine[] sumAtLimit = [new("a", "c", "b", 1, long.MaxValue - 1), new("b", "c", "b", 1, 1)];
        BasketLine[] beyond = [new("a", "c", "b", 1, long.MaxValue), new("b", "c", "b", 1, 1)];

        Assert.True(Scoring.Basket.TryCreate(atLimit, Channel.Store, "s", At, out var one, out var noLine));
        Assert.Equal((3 * price, -1), (one!.TotalMinor, noLine));
        Assert.True(Scoring.Basket.TryCreate(sumAtLimit, Channel.Store, "s", At, out var two, out _));
        Assert.Equal(long.MaxValue, two!.TotalMinor);
        Assert.False(Scoring.Basket.TryCreate(beyond, Channel.Store, "s", At, out _, out var overflowing));
        Assert.Equal(1, overflowing);
        Assert.Throws<OverflowException>(() => new BasketLine("a", "c", "b", 2, long.MaxValue).TotalMinor);
    }

    [Fact]
    public void Qualifying_values_that_would_overflow_fail_loudly_instead_of_wrapping()
    {
        var program = Program("""
            "objectives": [ { "id": "o", "steps": [ { "percent": 100, "points": 1 } ] } ]
            """);
        var nearLimit = new MemberState { Tier = "member", LifetimeSpendMinor = long.MaxValue - 10 };
        var yearNearLimit = new MemberState { Tier = "member", Counters = Counters((CounterKeys.YearSpend(2026), long.MaxValue - 10)) };

        Assert.Throws<OverflowException>(() => program.Score(nearLimit, BasketAt(At, Line(1_000))));
        Assert.Throws<OverflowException>(() => program.Score(yearNearLimit, BasketAt(At, Line(1_000))));
    }

    [Fact]
    public void A_new_member_state_has_no_tier_and_a_non_positive_denominator_is_named()
    {
        Assert.Equal(string.Empty, new MemberState().Tier);
        Assert.Contains("Denominator must be positive.", Assert.Throws<ArgumentOutOfRangeException>(() => Rounding.Divide(1, 0, RoundingMode.Floor)).Message, StringComparison.Ordinal);
    }
}
