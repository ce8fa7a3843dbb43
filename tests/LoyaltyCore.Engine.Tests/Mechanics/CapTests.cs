using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class CapTests
{
    private const string BaseReason = "1 pt per 1.00 EUR spent";

    // Friday 9 January 2026 23:30 UTC is Saturday 10 January 00:30 in Paris.
    private static readonly DateTimeOffset LateFriday = Utc(2026, 1, 9, 23, 30);

    private static LoyaltyProgram Capped(string caps, string rules = "[]") =>
        Program($$""" "caps": {{caps}}, "rules": {{rules}} """, timeZone: Paris);

    private static LoyaltyProgram CampaignProgram(string campaign) => Program(
        $$"""
        "campaigns": [ {{campaign}} ]
        """,
        timeZone: Paris);

    [Fact]
    public void Reaching_the_per_transaction_cap_exactly_keeps_the_plain_reason()
    {
        var outcome = Capped("""{ "perTransaction": 100 }""").Score(new MemberState(), BasketAt(LateFriday, Line(10_000)));

        Assert.Equal(100, outcome.PointsEarned);
        Assert.Equal([("base-earn", 100, BaseReason)], outcome.Awards());
    }

    [Fact]
    public void Exceeding_the_per_transaction_cap_cuts_the_line_and_says_so()
    {
        var outcome = Capped("""{ "perTransaction": 100 }""").Score(new MemberState(), BasketAt(LateFriday, Line(15_000)));

        Assert.Equal(100, outcome.PointsEarned);
        Assert.Equal([("base-earn", 100, BaseReason + " (limited by the per-transaction cap)")], outcome.Awards());
    }

    [Fact]
    public void Earlier_lines_keep_their_points_and_the_line_that_hits_the_cap_is_cut()
    {
        var program = Capped("""{ "perTransaction": 100 }""", """[ { "id": "late", "type": "bonus", "points": 50 } ]""");

        var outcome = program.Score(Member(250_000, "gold"), BasketAt(LateFriday, Line(8_000)));

        Assert.Equal(100, outcome.PointsEarned);
        Assert.Equal(("base-earn", 80, BaseReason), outcome.Breakdown[0].Said());
        Assert.Equal(("tier:gold", 20, "Gold tier x1.5 (limited by the per-transaction cap)"), outcome.Breakdown[1].Said());
        // The rule the cap left nothing for still shows, with 0 points and the cap that cut it.
        Assert.Equal(("late", 0, "50 bonus points (limited by the per-transaction cap)"), outcome.Breakdown[2].Said());
        Assert.Equal(3, outcome.Breakdown.Count);
        Assert.Equal(outcome.PointsEarned, outcome.Breakdown.Sum(b => b.Points));
    }

    [Fact]
    public void Two_lines_that_add_up_to_the_cap_exactly_are_not_limited()
    {
        var program = Capped("""{ "perTransaction": 100 }""", """[ { "id": "bonus", "name": "Bonus", "type": "bonus", "points": 20 } ]""");

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(8_000)));

        Assert.Equal([("base-earn", 80, BaseReason), ("bonus", 20, "Bonus")], outcome.Awards());
    }

    [Fact]
    public void The_daily_cap_counts_points_already_earned_on_the_local_day()
    {
        var member = new MemberState { Counters = Counters(("k.d:20260110", 80)) };

        var outcome = Capped("""{ "perMemberPerDay": 100 }""").Score(member, BasketAt(LateFriday, Line(5_000)));

        Assert.Equal(20, outcome.PointsEarned);
        Assert.Equal([("base-earn", 20, BaseReason + " (limited by the daily cap)")], outcome.Awards());
        Assert.Equal([("k.d:20260110", 20L)], outcome.Deltas());
    }

    [Fact]
    public void Points_of_the_previous_local_day_do_not_count_against_today()
    {
        // Same UTC date, but 9 January is yesterday in Paris.
        var member = new MemberState { Counters = Counters(("k.d:20260109", 80)) };

        var outcome = Capped("""{ "perMemberPerDay": 100 }""").Score(member, BasketAt(LateFriday, Line(5_000)));

        Assert.Equal([("base-earn", 50, BaseReason)], outcome.Awards());
        Assert.Equal([("k.d:20260110", 50L)], outcome.Deltas());
        Assert.Equal(["k.d:20260109"], outcome.StaleCounters);
    }

    [Fact]
    public void Reaching_the_daily_cap_exactly_keeps_the_plain_reason()
    {
        var member = new MemberState { Counters = Counters(("k.d:20260110", 50)) };

        var outcome = Capped("""{ "perMemberPerDay": 100 }""").Score(member, BasketAt(LateFriday, Line(5_000)));

        Assert.Equal([("base-earn", 50, BaseReason)], outcome.Awards());
    }

    [Fact]
    public void A_member_at_the_daily_cap_earns_nothing_more_that_day()
    {
        var member = new MemberState { Counters = Counters(("k.d:20260110", 100)) };

        var outcome = Capped("""{ "perMemberPerDay": 100 }""").Score(member, BasketAt(LateFriday, Line(5_000)));

        Assert.Equal(0, outcome.PointsEarned);
        Assert.Null(outcome.Delta("k.d:20260110"));
    }

    [Fact]
    public void The_tighter_of_the_transaction_and_daily_caps_names_the_cut()
    {
        var member = new MemberState { Counters = Counters(("k.d:20260110", 100)) };

        var outcome = Capped("""{ "perTransaction": 100, "perMemberPerDay": 150 }""").Score(member, BasketAt(LateFriday, Line(20_000)));

        Assert.Equal([("base-earn", 50, BaseReason + " (limited by the daily cap)")], outcome.Awards());
    }

    [Theory]
    [InlineData(0, 50, null)]
    [InlineData(50, 50, null)]
    [InlineData(70, 30, "Visit (limited by the campaign cap per member)")]
    [InlineData(100, 0, null)]
    [InlineData(130, 0, null)]
    public void The_campaign_cap_per_member_counts_what_the_member_already_earned_from_it(long alreadyEarned, long granted, string? reason)
    {
        var program = CampaignProgram("""
            { "id": "bf", "perMemberCap": 100, "rules": [ { "id": "bf-visit", "name": "Visit", "type": "bonus", "points": 50 } ] }
            """);
        var member = new MemberState { Counters = Counters(("k.c:bf", alreadyEarned)) };

        var outcome = program.Score(member, BasketAt(LateFriday, Line(1_000)));

        Assert.Equal(10 + granted, outcome.PointsEarned);
        if (reason is not null)
        {
            Assert.Equal(reason, outcome.LineFor("bf-visit").Reason);
        }

        if (granted == 0)
        {
            Assert.Empty(outcome.CampaignAwards);
            Assert.Null(outcome.Delta("k.c:bf"));
        }
        else
        {
            Assert.Equal([new CampaignAward("bf", granted)], outcome.CampaignAwards);
            Assert.Equal(granted, outcome.Delta("k.c:bf"));
        }
    }

    [Fact]
    public void The_campaign_cap_per_member_spans_all_rules_of_the_campaign_in_one_purchase()
    {
        var program = CampaignProgram("""
            { "id": "bf", "perMemberCap": 100, "rules": [
                { "id": "bf-coffee", "type": "multiplier", "factor": 3, "lines": { "categories": ["coffee"] } },
                { "id": "bf-visit", "name": "Visit", "type": "bonus", "points": 50 } ] }
            """);

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(3_000, category: "coffee")));

        Assert.Equal([("base-earn", 30L), ("bf-coffee", 60L), ("bf-visit", 40L)], outcome.Lines());
        Assert.Equal("Visit (limited by the campaign cap per member)", outcome.LineFor("bf-visit").Reason);
        Assert.Equal([new CampaignAward("bf", 100)], outcome.CampaignAwards);
    }

    [Theory]
    [InlineData(10, 10, "Visit (limited by the campaign budget)")]
    [InlineData(50, 50, "Visit")]
    [InlineData(1_000, 50, "Visit")]
    public void The_campaign_budget_passed_in_limits_what_the_campaign_awards(long budget, long granted, string reason)
    {
        var program = CampaignProgram("""
            { "id": "bf", "budget": 100000, "rules": [ { "id": "bf-visit", "name": "Visit", "type": "bonus", "points": 50 } ] }
            """);

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(1_000)), new Dictionary<string, long> { ["bf"] = budget });

        Assert.Equal(("bf-visit", granted, reason), outcome.LineFor("bf-visit").Said());
        Assert.Equal([new CampaignAward("bf", granted)], outcome.CampaignAwards);
        Assert.Equal(granted, outcome.Delta("k.c:bf"));
    }

    [Fact]
    public void An_exhausted_budget_stops_the_campaign_only()
    {
        var program = Program(
            """
            "campaigns": [
              { "id": "spent", "rules": [ { "id": "spent-visit", "type": "bonus", "points": 50 } ] },
              { "id": "open", "rules": [ { "id": "open-visit", "type": "bonus", "points": 20 } ] }
            ]
            """,
            timeZone: Paris);

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(1_000)), new Dictionary<string, long> { ["spent"] = 0, ["elsewhere"] = 0 });

        Assert.Equal(30, outcome.PointsEarned);
        Assert.Equal(20, outcome.LineFor("open-visit").Points);
        Assert.Equal([new CampaignAward("open", 20)], outcome.CampaignAwards);
        Assert.Null(outcome.Delta("k.c:spent"));
    }

    [Fact]
    public void Without_budget_limits_a_campaign_is_not_limited_by_its_declared_budget()
    {
        var program = CampaignProgram("""
            { "id": "bf", "budget": 10, "rules": [ { "id": "bf-visit", "type": "bonus", "points": 50 } ] }
            """);

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(1_000)));

        Assert.Equal(50, outcome.LineFor("bf-visit").Points);
    }

    [Fact]
    public void The_per_transaction_cap_applies_before_the_campaign_budget()
    {
        var program = Program(
            """
            "caps": { "perTransaction": 100 },
            "campaigns": [ { "id": "bf", "rules": [ { "id": "bf-visit", "name": "Visit", "type": "bonus", "points": 50 } ] } ]
            """,
            timeZone: Paris);

        var outcome = program.Score(new MemberState(), BasketAt(LateFriday, Line(9_000)), new Dictionary<string, long> { ["bf"] = 30 });

        Assert.Equal(("bf-visit", 10, "Visit (limited by the per-transaction cap)"), outcome.LineFor("bf-visit").Said());
        Assert.Equal([new CampaignAward("bf", 10)], outcome.CampaignAwards);
    }

    [Fact]
    public void Caps_apply_to_objective_and_referral_lines_too()
    {
        var program = Program(
            """
            "caps": { "perTransaction": 100 },
            "objectives": [ { "id": "ca", "steps": [ { "percent": 100, "points": 500 } ] } ],
            "referral": { "referrerPoints": 300, "refereePoints": 200 }
            """,
            timeZone: Paris);
        var member = new MemberState { ReferenceRevenueMinor = 1_000, ReferredBy = "m-1" };

        var outcome = program.Score(member, BasketAt(LateFriday, Line(1_000)));

        Assert.Equal(100, outcome.PointsEarned);
        Assert.Equal(90, outcome.LineFor("ca@100").Points);
        Assert.EndsWith("(limited by the per-transaction cap)", outcome.LineFor("ca@100").Reason, StringComparison.Ordinal);
        Assert.Equal(new ReferrerReward("m-1", 300), outcome.ReferrerReward);
    }
}
