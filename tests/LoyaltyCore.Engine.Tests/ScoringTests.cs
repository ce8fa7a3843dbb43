using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tests;

public sealed class ScoringTests
{
    [Fact]
    public void Base_rate_earns_whole_points_per_currency_unit_rounded_down()
    {
        var outcome = ProgramBuilder.Sample().Score(ProgramBuilder.Member(), ProgramBuilder.Basket((2, 1_260), (1, 2_000)));

        Assert.Equal(4_520, outcome.SpendMinor);
        Assert.Equal(45, outcome.PointsEarned);
        var line = Assert.Single(outcome.Breakdown);
        Assert.Equal(LoyaltyProgram.BaseEarnRuleId, line.RuleId);
        Assert.Equal("1 pt per 1.00 EUR spent", line.Reason);
    }

    [Theory]
    [InlineData("floor", 45)]
    [InlineData("ceiling", 46)]
    [InlineData("half_up", 46)]
    [InlineData("half_even", 46)]
    public void Rounding_rule_of_the_program_applies_to_a_half_point(string rounding, long expected)
    {
        var outcome = ProgramBuilder.Sample(rounding).Score(ProgramBuilder.Member(), ProgramBuilder.Basket((1, 4_550)));
        Assert.Equal(expected, outcome.PointsEarned);
    }

    [Fact]
    public void Tier_multiplier_is_a_separate_breakdown_line_and_lines_add_up()
    {
        var outcome = ProgramBuilder.Sample().Score(ProgramBuilder.Member(300_000, "gold"), ProgramBuilder.Basket((1, 4_500)));

        Assert.Equal(2, outcome.Breakdown.Count);
        Assert.Equal(45, outcome.Breakdown[0].Points);
        Assert.Equal("tier:gold", outcome.Breakdown[1].RuleId);
        Assert.Equal(22, outcome.Breakdown[1].Points); // 45.00 EUR x 0.5 = 22.5, floored
        Assert.Equal(outcome.Breakdown.Sum(b => b.Points), outcome.PointsEarned);
        Assert.Contains("Gold tier x1.5", outcome.Breakdown[1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Purchase_that_crosses_a_threshold_upgrades_the_tier_and_earns_at_the_tier_held_before()
    {
        var outcome = ProgramBuilder.Sample().Score(ProgramBuilder.Member(49_000), ProgramBuilder.Basket((1, 1_000)));

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.True(outcome.TierChanged);
        Assert.Equal(10, outcome.PointsEarned);
        Assert.Equal("gold", outcome.Progress!.Value.NextTier.Id);
        Assert.Equal(150_000, outcome.Progress.Value.Remaining);
    }

    [Fact]
    public void Reaching_a_threshold_exactly_qualifies_while_one_cent_short_does_not()
    {
        var program = ProgramBuilder.Sample();
        Assert.Equal("silver", program.Score(ProgramBuilder.Member(49_999), ProgramBuilder.Basket((1, 1))).TierAfter.Id);
        Assert.Equal("member", program.Score(ProgramBuilder.Member(49_998), ProgramBuilder.Basket((1, 1))).TierAfter.Id);
    }

    [Fact]
    public void A_purchase_can_jump_several_tiers_at_once()
    {
        var outcome = ProgramBuilder.Sample().Score(ProgramBuilder.Member(), ProgramBuilder.Basket((1, 250_000)));
        Assert.Equal("gold", outcome.TierAfter.Id);
        Assert.Null(outcome.Progress);
    }

    [Fact]
    public void A_stored_tier_is_never_lost_and_an_unknown_one_falls_back_to_spend()
    {
        var policy = ProgramBuilder.Sample().TierPolicy;
        var local = new DateTime(2026, 11, 23, 12, 0, 0, DateTimeKind.Unspecified);
        Assert.Equal("gold", policy.Current(ProgramBuilder.Member(0, "gold"), local).Tier.Id);
        Assert.Equal("silver", policy.Current(ProgramBuilder.Member(60_000, "retired-tier"), local).Tier.Id);
        Assert.Equal("silver", policy.Current(ProgramBuilder.Member(60_000, "member"), local).Tier.Id);
    }

    [Fact]
    public void Free_items_earn_nothing_and_produce_no_breakdown()
    {
        var outcome = ProgramBuilder.Sample().Score(ProgramBuilder.Member(300_000, "gold"), ProgramBuilder.Basket((3, 0)));
        Assert.Equal(0, outcome.PointsEarned);
        Assert.Empty(outcome.Breakdown);
    }

    [Fact]
    public void Scoring_is_deterministic_for_the_same_program_state_and_basket()
    {
        var program = ProgramBuilder.Sample();
        var basket = ProgramBuilder.Basket((3, 1_999), (1, 12_345));
        var first = program.Score(ProgramBuilder.Member(100_000, "silver"), basket);
        var second = program.Score(ProgramBuilder.Member(100_000, "silver"), basket);
        Assert.Equal(first.Breakdown, second.Breakdown);
        Assert.Equal(first.PointsEarned, second.PointsEarned);
    }

    [Fact]
    public void Basket_reports_the_line_whose_total_overflows_int64()
    {
        BasketLine[] lines =
        [
            new("a", "c", "b", 1, 100),
            new("b", "c", "b", 2, long.MaxValue / 2),
        ];
        Assert.False(Basket.TryCreate(lines, Channel.Web, "s", DateTimeOffset.UnixEpoch, out _, out var overflowing));
        Assert.Equal(1, overflowing);
    }
}
