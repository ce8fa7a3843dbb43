using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class DeterminismTests
{
    private static readonly string Json = ProgramBuilder.Json(
        """
        "exclusions": { "categories": ["gift-card"] },
        "caps": { "perTransaction": 5000, "perMemberPerDay": 8000 },
        "tierQualification": { "metric": "spend", "period": "rolling", "months": 12, "review": "01-01" },
        "memberships": [ { "id": "plus", "name": "Maison+", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2 } ],
        "rules": [
          { "id": "app-orders", "type": "multiplier", "factor": 2, "when": { "channels": ["mobile_app"] } },
          { "id": "organic", "type": "multiplier", "factor": 1.5, "lines": { "categories": ["organic"] } },
          { "id": "big-basket", "type": "bonus", "points": 100, "when": { "basketTotalAtLeast": 10000 } },
          { "id": "fifth-visit", "type": "bonus", "points": 150, "when": { "nthPurchase": { "n": 5, "period": "month" } } }
        ],
        "campaigns": [ { "id": "bf", "perMemberCap": 1000,
          "window": { "start": "2026-11-27T00:00", "end": "2026-11-30T00:00" },
          "rules": [ { "id": "bf-visit", "type": "bonus", "points": 30 } ] } ],
        "objectives": [ { "id": "ca-n1", "steps": [ { "percent": 100, "points": 1000 }, { "percent": 110, "points": 1500 } ] } ],
        "referral": { "referrerPoints": 500, "refereePoints": 200, "minimumSpend": 2000 }
        """,
        timeZone: Paris);

    private static MemberState State() => new()
    {
        Tier = "gold",
        LifetimeSpendMinor = 400_000,
        Purchases = 12,
        Segments = ["student"],
        Membership = "plus",
        MembershipExpiresAt = Utc(2027, 1, 1),
        ReferenceRevenueMinor = 50_000,
        ReferredBy = "referrer-1",
        Counters = Counters(("k.nm:202611", 4), ("k.q:202511", 80_000), ("k.y:2026", 45_000), ("k.d:20261127", 100), ("k.tr", 20250101), ("k.c:bf", 10)),
    };

    private static Basket Purchase() => BasketAt(
        Utc(2026, 11, 27, 9, 15), Channel.MobileApp, "paris-01",
        Line(4_550, category: "organic"), Line(12_345), Line(2_000, category: "gift-card"));

    private static void AssertSame(ScoreOutcome expected, ScoreOutcome actual)
    {
        Assert.Equal(expected.PointsEarned, actual.PointsEarned);
        Assert.Equal(expected.Breakdown, actual.Breakdown);
        Assert.Equal(expected.SpendMinor, actual.SpendMinor);
        Assert.Equal(expected.EligibleSpendMinor, actual.EligibleSpendMinor);
        Assert.Equal(expected.TierBefore, actual.TierBefore);
        Assert.Equal(expected.TierAfter, actual.TierAfter);
        Assert.Equal(expected.Progress, actual.Progress);
        Assert.Equal(expected.CounterDeltas, actual.CounterDeltas);
        Assert.Equal(expected.CounterSets, actual.CounterSets);
        Assert.Equal(expected.StaleCounters, actual.StaleCounters);
        Assert.Equal(expected.CampaignAwards, actual.CampaignAwards);
        Assert.Equal(expected.ReferrerReward, actual.ReferrerReward);
    }

    [Fact]
    public void The_same_program_state_and_basket_give_the_same_outcome()
    {
        var program = ProgramParser.Parse(Json);

        var first = program.Score(State(), Purchase());
        var second = program.Score(State(), Purchase());

        AssertSame(first, second);
    }

    [Fact]
    public void A_program_compiled_again_from_the_same_document_scores_identically()
    {
        var first = ProgramParser.Parse(Json).Score(State(), Purchase());
        var second = ProgramParser.Parse(Json).Score(State(), Purchase());

        AssertSame(first, second);
    }

    [Fact]
    public void Scoring_does_not_change_the_member_state_it_reads()
    {
        var program = ProgramParser.Parse(Json);
        var member = State();
        var before = member.Counters.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

        var first = program.Score(member, Purchase());
        var second = program.Score(member, Purchase());

        Assert.Equal(before, member.Counters);
        AssertSame(first, second);
    }

    [Fact]
    public void The_combined_outcome_is_exactly_the_documented_stacking()
    {
        var outcome = ProgramParser.Parse(Json).Score(State(), Purchase());

        // The 1 January 2026 review is still due: the twelve months of 2025 (800.00 EUR) support silver, not the stored gold.
        Assert.Equal(18_895, outcome.SpendMinor);
        Assert.Equal(16_895, outcome.EligibleSpendMinor);
        Assert.Equal("silver", outcome.TierBefore.Id);
        Assert.Equal(
            [
                ("base-earn", 168L), ("tier:silver", 42L), ("membership:plus", 33L), ("app-orders", 168L), ("organic", 22L),
                ("big-basket", 100L), ("fifth-visit", 150L), ("bf-visit", 30L), ("ca-n1@100", 1000L), ("ca-n1@110", 1500L), ("referral", 200L),
            ],
            outcome.Lines());
        Assert.Equal(3_413, outcome.PointsEarned);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.tr", 20260101L)], outcome.Sets());
        Assert.Equal(
            [
                ("k.y:2026", 18_895L), ("k.o:ca-n1:2026:100", 1L), ("k.o:ca-n1:2026:110", 1L), ("k.rr", 1L),
                ("k.d:20261127", 3_413L), ("k.c:bf", 30L), ("k.nm:202611", 1L), ("k.q:202611", 18_895L),
            ],
            outcome.Deltas());
        Assert.Empty(outcome.StaleCounters);
        Assert.Equal(new ReferrerReward("referrer-1", 500), outcome.ReferrerReward);
        Assert.Equal([new CampaignAward("bf", 30)], outcome.CampaignAwards);
    }
}
