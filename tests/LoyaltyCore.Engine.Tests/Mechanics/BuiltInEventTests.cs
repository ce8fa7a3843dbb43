using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class BuiltInEventTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram WithUpgradeBonus(string extra = "") => Program($$"""
        "rules": [
          { "id": "stop-all", "type": "bonus", "points": 1, "stop": true },
          { "id": "welcome-silver", "name": "Welcome to Silver", "type": "event", "event": "tier_reached", "points": 250, "reached": ["silver"],
            "limit": { "count": 1 } },
          { "id": "any-upgrade", "type": "event", "event": "tier_reached", "points": 50 }
          {{extra}}
        ]
        """);

    [Fact]
    public void A_purchase_that_upgrades_fires_the_tier_reached_rules_for_the_tier_reached_even_after_a_stop()
    {
        var outcome = WithUpgradeBonus().Score(Member(), BasketAt(At, Line(60_000)));

        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("base-earn", 600L), ("stop-all", 1L), ("welcome-silver", 250L), ("any-upgrade", 50L)], outcome.Lines());
        Assert.Equal(1, outcome.Delta("k.e:welcome-silver"));
    }

    [Fact]
    public void A_rule_naming_other_tiers_does_not_fire_and_a_purchase_without_upgrade_fires_none()
    {
        var toGold = WithUpgradeBonus().Score(Member(60_000, "silver"), BasketAt(At, Line(150_000)));
        var noUpgrade = WithUpgradeBonus().Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Equal("gold", toGold.TierAfter.Id);
        Assert.DoesNotContain(toGold.Breakdown, b => b.RuleId == "welcome-silver");
        Assert.Equal(50, toGold.LineFor("any-upgrade").Points);
        Assert.DoesNotContain(noUpgrade.Breakdown, b => b.RuleId is "welcome-silver" or "any-upgrade");
    }

    [Fact]
    public void An_upgrade_bonus_counts_for_the_daily_cap_and_its_limit_holds()
    {
        var program = Program("""
            "caps": { "perMemberPerDay": 700 },
            "rules": [ { "id": "welcome-silver", "type": "event", "event": "tier_reached", "points": 250, "limit": { "count": 1 } } ]
            """);
        var again = new MemberState { Tier = "member", Counters = Counters(("k.e:welcome-silver", 1)) };

        var outcome = program.Score(Member(), BasketAt(At, Line(60_000)));
        var second = program.Score(again, BasketAt(At.AddDays(1), Line(60_000)));

        Assert.Equal([("base-earn", 600L), ("welcome-silver", 100L)], outcome.Lines());
        Assert.Equal(700, outcome.Delta("k.d:20260310"));
        Assert.DoesNotContain(second.Breakdown, b => b.RuleId == "welcome-silver");
    }

    [Fact]
    public void An_event_that_upgrades_on_points_fires_the_tier_reached_rules_too()
    {
        var program = ProgramParser.Parse(Json("""
            "tierQualification": { "metric": "points" },
            "rules": [
              { "id": "review", "type": "event", "event": "review_posted", "points": 600 },
              { "id": "upgrade", "type": "event", "event": "tier_reached", "points": 10 }
            ]
            """, tiers: """[ { "id": "member", "threshold": 0 }, { "id": "silver", "threshold": 500 } ]"""));

        var outcome = program.RecordEvent(Member(), "review_posted", At);

        Assert.Equal([("review", 600L), ("upgrade", 10L)], outcome.Lines());
        Assert.Equal(610, outcome.Delta("k.pl"));
    }

    [Theory]
    [InlineData(true, "m-1", true)]
    [InlineData(true, null, false)]
    [InlineData(false, null, true)]
    public void The_referred_condition_tells_members_who_joined_through_a_referral(bool referred, string? referrer, bool fires)
    {
        var program = Program($$"""
            "rules": [ { "id": "welcome", "type": "event", "event": "enrolled", "points": 100, "when": { "referred": {{(referred ? "true" : "false")}} } } ]
            """);

        var outcome = program.RecordEvent(new MemberState { Tier = "member", ReferredBy = referrer }, "enrolled", At);

        Assert.Equal(fires ? 100 : 0, outcome.PointsEarned);
    }

    [Fact]
    public void Built_in_events_are_never_recordable_by_clients()
    {
        var program = Program("""
            "rules": [ { "id": "welcome", "type": "event", "event": "enrolled", "points": 100 } ]
            """);

        Assert.True(program.HasEventRules("enrolled"));
        Assert.False(program.HasEventRules("tier_reached"));
        Assert.False(program.IsRecordableEvent("enrolled"));
        Assert.False(program.IsRecordableEvent("tier_reached"));
    }

    [Fact]
    public void Reached_is_validated()
    {
        var errors = Errors(Json("""
            "events": ["enrolled"],
            "rules": [
              { "id": "a", "type": "event", "event": "tier_reached", "points": 1, "reached": ["platinum"] },
              { "id": "b", "type": "event", "event": "enrolled", "points": 1, "reached": ["silver"] },
              { "id": "c", "type": "bonus", "points": 1, "reached": ["silver"] },
              { "id": "d", "type": "event", "event": "enrolled", "points": 1, "when": { "referred": "yes" } }
            ]
            """));

        Assert.Equal(
            [
                "events[0]: 'enrolled' is a standard event and needs no declaration",
                "rules[0].reached: unknown tier 'platinum'",
                "rules[1].reached: only for tier_reached rules",
                "rules[2].reached: only for event rules",
                "rules[3].when.referred: true or false",
            ],
            errors.Order(StringComparer.Ordinal));
    }
}
