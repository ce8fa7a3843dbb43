using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class MembershipTests
{
    private static readonly DateTimeOffset At = Utc(2026, 4, 14, 9, 30);

    private static LoyaltyProgram WithMemberships() => Program("""
        "memberships": [
          { "id": "plus", "name": "Maison+", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 },
          { "id": "basic", "name": "Basic", "priceMinor": 900, "durationDays": 30 }
        ],
        "rules": [ { "id": "plus-extra", "type": "bonus", "points": 50, "when": { "membership": "plus" } } ]
        """);

    private static MemberState Holding(string membership, DateTimeOffset expiresAt, string tier = "member") =>
        new() { Membership = membership, MembershipExpiresAt = expiresAt, Tier = tier };

    [Fact]
    public void An_active_membership_multiplies_earn_on_its_own_line()
    {
        var outcome = WithMemberships().Score(Holding("plus", At.AddDays(200)), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L), ("membership:plus", 20L), ("plus-extra", 50L)], outcome.Lines());
        Assert.Equal("Maison+ membership x1.2", outcome.LineFor("membership:plus").Reason);
        Assert.Equal(170, outcome.PointsEarned);
    }

    [Fact]
    public void The_membership_multiplier_adds_to_the_tier_multiplier()
    {
        var outcome = WithMemberships().Score(Holding("plus", At.AddDays(200), "gold"), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L), ("tier:gold", 50L), ("membership:plus", 20L), ("plus-extra", 50L)], outcome.Lines());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(-86_400 * 30)]
    public void An_expired_membership_earns_nothing_extra(int expiredSecondsAgo)
    {
        var outcome = WithMemberships().Score(Holding("plus", At.AddSeconds(expiredSecondsAgo)), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L)], outcome.Lines());
    }

    [Fact]
    public void A_membership_one_second_from_expiry_still_counts()
    {
        var outcome = WithMemberships().Score(Holding("plus", At.AddSeconds(1)), BasketAt(At, Line(10_000)));

        Assert.Equal(170, outcome.PointsEarned);
    }

    [Fact]
    public void A_membership_without_a_multiplier_adds_no_line()
    {
        var outcome = WithMemberships().Score(Holding("basic", At.AddDays(10)), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L)], outcome.Lines());
    }

    [Fact]
    public void A_membership_the_program_does_not_know_is_ignored()
    {
        var outcome = WithMemberships().Score(Holding("retired-plan", At.AddDays(10)), BasketAt(At, Line(10_000)));

        Assert.Equal([("base-earn", 100L)], outcome.Lines());
    }

    [Fact]
    public void The_membership_multiplier_acts_on_eligible_spend_only()
    {
        var program = Program("""
            "exclusions": { "categories": ["gift-card"] },
            "memberships": [ { "id": "plus", "name": "Maison+", "priceMinor": 4900, "durationDays": 365, "multiplier": 2 } ]
            """);

        var outcome = program.Score(Holding("plus", At.AddDays(1)), BasketAt(At, Line(1_000), Line(9_000, category: "gift-card")));

        Assert.Equal([("base-earn", 10L), ("membership:plus", 10L)], outcome.Lines());
    }
}
