using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class ReferralTests
{
    private static readonly DateTimeOffset At = Utc(2026, 4, 14);

    private static LoyaltyProgram Referral(long referrerPoints = 500) => Program($$"""
        "exclusions": { "categories": ["gift-card"] },
        "referral": { "referrerPoints": {{referrerPoints}}, "refereePoints": 200, "minimumSpend": 2000 }
        """);

    private static MemberState Referred(params (string Key, long Value)[] counters) =>
        new() { ReferredBy = "referrer-1", Counters = Counters(counters) };

    [Theory]
    [InlineData(2_000)]
    [InlineData(2_500)]
    public void The_first_purchase_reaching_the_minimum_rewards_both_members(long spendMinor)
    {
        var outcome = Referral().Score(Referred(), BasketAt(At, Line(spendMinor)));

        Assert.Equal(("referral", 200, "Welcome bonus for joining through a referral"), outcome.LineFor("referral").Said());
        Assert.Equal((spendMinor / 100) + 200, outcome.PointsEarned);
        Assert.Equal(new ReferrerReward("referrer-1", 500), outcome.ReferrerReward);
        Assert.Equal([("k.rr", 1L)], outcome.Deltas());
    }

    [Fact]
    public void A_purchase_below_the_minimum_rewards_nobody_and_keeps_the_referral_open()
    {
        var outcome = Referral().Score(Referred(), BasketAt(At, Line(1_999)));

        Assert.Equal([("base-earn", 19L)], outcome.Lines());
        Assert.Null(outcome.ReferrerReward);
        Assert.Empty(outcome.CounterDeltas);
    }

    [Fact]
    public void The_minimum_is_measured_on_eligible_spend()
    {
        var outcome = Referral().Score(Referred(), BasketAt(At, Line(1_500), Line(10_000, category: "gift-card")));

        Assert.DoesNotContain(outcome.Breakdown, b => b.RuleId == "referral");
        Assert.Null(outcome.ReferrerReward);
    }

    [Fact]
    public void A_referral_already_rewarded_is_never_rewarded_again()
    {
        var outcome = Referral().Score(Referred(("k.rr", 1)), BasketAt(At, Line(5_000)));

        Assert.Equal([("base-earn", 50L)], outcome.Lines());
        Assert.Null(outcome.ReferrerReward);
        Assert.Null(outcome.Delta("k.rr"));
    }

    [Fact]
    public void A_member_nobody_referred_gets_no_welcome()
    {
        var outcome = Referral().Score(new MemberState(), BasketAt(At, Line(5_000)));

        Assert.Equal([("base-earn", 50L)], outcome.Lines());
        Assert.Null(outcome.ReferrerReward);
    }

    [Fact]
    public void A_qualifying_purchase_that_is_not_the_first_still_rewards_an_open_referral()
    {
        var member = new MemberState { ReferredBy = "referrer-1", Purchases = 3 };

        var outcome = Referral().Score(member, BasketAt(At, Line(2_000)));

        Assert.Equal(200, outcome.LineFor("referral").Points);
    }

    [Fact]
    public void A_program_without_referrer_points_rewards_the_referee_only()
    {
        var outcome = Referral(referrerPoints: 0).Score(Referred(), BasketAt(At, Line(2_000)));

        Assert.Equal(200, outcome.LineFor("referral").Points);
        Assert.Null(outcome.ReferrerReward);
        Assert.Equal([("k.rr", 1L)], outcome.Deltas());
    }

    [Fact]
    public void A_program_without_referral_ignores_the_referrer()
    {
        var outcome = Program().Score(Referred(), BasketAt(At, Line(5_000)));

        Assert.Equal([("base-earn", 50L)], outcome.Lines());
        Assert.Null(outcome.ReferrerReward);
    }
}
