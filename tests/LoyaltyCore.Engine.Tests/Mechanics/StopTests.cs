using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class StopTests
{
    private static readonly DateTimeOffset At = Utc(2026, 4, 14);

    private static LoyaltyProgram Stopping(string stopRule) => Program($$"""
        "rules": [
          { "id": "first", "type": "bonus", "points": 10 },
          {{stopRule}},
          { "id": "after", "type": "bonus", "points": 30 }
        ],
        "campaigns": [ { "id": "promo", "rules": [
          { "id": "promo-visit", "type": "bonus", "points": 40 },
          { "id": "promo-stop", "type": "bonus", "points": 50, "stop": true },
          { "id": "promo-after", "type": "bonus", "points": 60 } ] } ],
        "objectives": [ { "id": "ca", "steps": [ { "percent": 100, "points": 1000 } ] } ],
        "referral": { "referrerPoints": 500, "refereePoints": 200, "minimumSpend": 2000 }
        """);

    private static LoyaltyProgram BigBasketStops() =>
        Stopping("""{ "id": "big", "type": "bonus", "points": 20, "stop": true, "when": { "basketTotalAtLeast": 5000 } }""");

    [Fact]
    public void A_firing_stop_rule_prevents_every_later_program_and_campaign_rule()
    {
        var outcome = BigBasketStops().Score(new MemberState(), BasketAt(At, Line(6_000)));

        Assert.Equal([("base-earn", 60L), ("first", 10L), ("big", 20L)], outcome.Lines());
        Assert.Empty(outcome.CampaignAwards);
    }

    [Fact]
    public void A_stop_rule_that_does_not_fire_stops_nothing()
    {
        var outcome = BigBasketStops().Score(new MemberState(), BasketAt(At, Line(4_000)));

        Assert.Equal([("base-earn", 40L), ("first", 10L), ("after", 30L), ("promo-visit", 40L), ("promo-stop", 50L)], outcome.Lines());
        Assert.Equal([new CampaignAward("promo", 90)], outcome.CampaignAwards);
    }

    [Fact]
    public void A_stop_multiplier_with_nothing_to_act_on_does_not_stop()
    {
        var program = Stopping("""{ "id": "coffee", "type": "multiplier", "factor": 2, "stop": true, "lines": { "categories": ["coffee"] } }""");

        var outcome = program.Score(new MemberState(), BasketAt(At, Line(1_000, category: "tea")));

        Assert.Contains(outcome.Breakdown, b => b.RuleId == "after");
        Assert.DoesNotContain(outcome.Breakdown, b => b.RuleId == "coffee");
    }

    [Fact]
    public void Objective_steps_and_the_referral_welcome_still_apply_after_a_stop()
    {
        var member = new MemberState { ReferenceRevenueMinor = 6_000, ReferredBy = "referrer-1" };

        var outcome = BigBasketStops().Score(member, BasketAt(At, Line(6_000)));

        Assert.Equal([("base-earn", 60L), ("first", 10L), ("big", 20L), ("ca@100", 1000L), ("referral", 200L)], outcome.Lines());
        Assert.Equal(1290, outcome.PointsEarned);
        Assert.Equal(new ReferrerReward("referrer-1", 500), outcome.ReferrerReward);
    }

    [Fact]
    public void Tier_and_membership_multipliers_come_before_the_rules_and_are_never_stopped()
    {
        var program = Program("""
            "memberships": [ { "id": "plus", "name": "Plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 } ],
            "rules": [ { "id": "stopper", "type": "bonus", "points": 1, "stop": true }, { "id": "after", "type": "bonus", "points": 2 } ]
            """);
        var member = new MemberState { Tier = "silver", LifetimeSpendMinor = 60_000, Membership = "plus", MembershipExpiresAt = At.AddDays(1) };

        var outcome = program.Score(member, BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L), ("tier:silver", 25L), ("membership:plus", 20L), ("stopper", 1L)], outcome.Lines());
    }

    [Fact]
    public void A_stop_inside_a_campaign_ends_the_remaining_campaign_rules()
    {
        var outcome = Stopping("""{ "id": "never", "type": "bonus", "points": 20, "when": { "segments": ["nobody"] } }""")
            .Score(new MemberState(), BasketAt(At, Line(1_000)));

        Assert.Equal([("base-earn", 10L), ("first", 10L), ("after", 30L), ("promo-visit", 40L), ("promo-stop", 50L)], outcome.Lines());
    }
}
