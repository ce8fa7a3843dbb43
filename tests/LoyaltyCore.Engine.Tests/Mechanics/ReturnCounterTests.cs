using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>What a return gives back in the member's counters, and the program's negative-balance policy.</summary>
public sealed class ReturnCounterTests
{
    // Tuesday 10 March 2026, noon UTC.
    private static readonly DateTimeOffset PurchasedAt = Utc(2026, 3, 10);

    private static (string Key, long Value)[] Deltas(LoyaltyProgram program, MemberState member, long spend, long points, params CampaignAward[] campaigns) =>
        [.. program.ReturnCounterDeltas(member, PurchasedAt, spend, points, campaigns).Select(d => (d.Key, d.Value))];

    [Fact]
    public void The_days_points_and_the_qualifying_month_go_down_by_what_is_returned()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 500 },
            "tierQualification": { "metric": "spend", "period": "rolling", "months": 12 }
            """);
        var member = new MemberState { Counters = Counters(("k.d:20260310", 80), ("k.q:202603", 9_000)) };

        Assert.Equal([("k.d:20260310", -30L), ("k.q:202603", -3_000L)], Deltas(program, member, 3_000, 30));
    }

    [Fact]
    public void Nothing_goes_below_what_the_counter_holds_and_dropped_counters_stay_dropped()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 500 },
            "tierQualification": { "metric": "points", "period": "rolling", "months": 12 }
            """);
        var member = new MemberState { Counters = Counters(("k.q:202603", 10)) };

        // The day's counter is gone (a later day's purchase dropped it); the month holds less than is returned.
        Assert.Equal([("k.q:202603", -10L)], Deltas(program, member, 3_000, 30));
    }

    [Fact]
    public void Each_campaigns_points_go_back_to_its_cap_counter()
    {
        var program = Program("""
            "campaigns": [ { "id": "bf", "rules": [ { "id": "bf-x2", "type": "multiplier", "factor": 2 } ] },
                           { "id": "spring", "rules": [ { "id": "s-x2", "type": "multiplier", "factor": 2 } ] } ]
            """);
        var member = new MemberState { Counters = Counters(("k.c:bf", 50), ("k.c:spring", 5)) };

        Assert.Equal([("k.c:bf", -20L), ("k.c:spring", -5L)], Deltas(program, member, 0, 0, new("bf", 20), new("spring", 9), new("gone", 3)));
    }

    [Fact]
    public void Lifetime_points_are_given_back_and_the_count_since_the_last_tier_change_is_left_alone()
    {
        var lifetime = Program("""
            "tierQualification": { "metric": "points", "period": "lifetime" }
            """);
        var since = Program("""
            "tierQualification": { "metric": "spend", "period": "sinceLastTierChange" }
            """);
        var member = new MemberState { Counters = Counters(("k.pl", 400), ("k.qc", 20_000)) };

        Assert.Equal([("k.pl", -40L)], Deltas(lifetime, member, 4_000, 40));
        // The count may have restarted at a tier change since the purchase.
        Assert.Empty(Deltas(since, member, 4_000, 40));
    }

    [Fact]
    public void The_years_spend_goes_down_only_where_the_program_has_objectives()
    {
        var withObjectives = Program("""
            "objectives": [ { "id": "ca", "steps": [ { "percent": 100, "points": 1000 } ] } ]
            """);
        var member = new MemberState { Counters = Counters(("k.y:2026", 50_000)) };

        Assert.Equal([("k.y:2026", -7_000L)], Deltas(withObjectives, member, 7_000, 70));
        Assert.Empty(Deltas(Program(), member, 7_000, 70));
        Assert.Equal("k.o:ca:2026:100", withObjectives.ObjectiveStepCounter("ca@100", PurchasedAt));
        Assert.Null(withObjectives.ObjectiveStepCounter("base-earn", PurchasedAt));
    }

    [Fact]
    public void Nothing_returned_gives_nothing_back()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 500 }
            """);
        var member = new MemberState { Counters = Counters(("k.d:20260310", 80)) };

        Assert.Empty(Deltas(program, member, 0, 0));
    }

    [Theory]
    [InlineData("", NegativeBalancePolicy.Allow)]
    [InlineData("""
        , "returns": { "negativeBalance": "allow" }
        """, NegativeBalancePolicy.Allow)]
    [InlineData("""
        , "returns": { "negativeBalance": "clamp" }
        """, NegativeBalancePolicy.Clamp)]
    [InlineData("""
        , "returns": { }
        """, NegativeBalancePolicy.Allow)]
    public void The_negative_balance_policy_is_read_from_the_program(string section, NegativeBalancePolicy expected)
    {
        Assert.Equal(expected, ProgramParser.Parse(Json().Replace("\n}", section + "\n}", StringComparison.Ordinal)).ReturnsNegativeBalance);
    }

    [Fact]
    public void An_unknown_negative_balance_policy_or_field_is_refused()
    {
        Assert.Contains(Errors(Json("""
            "returns": { "negativeBalance": "never" }
            """)), e => e.Contains("returns.negativeBalance", StringComparison.Ordinal) && e.Contains("allow, clamp", StringComparison.Ordinal));
        Assert.Contains(Errors(Json("""
            "returns": { "policy": "clamp" }
            """)), e => e.Contains("returns.policy", StringComparison.Ordinal));
    }
}
