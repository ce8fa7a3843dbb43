using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class ObjectiveTests
{
    private static readonly DateTimeOffset At = Utc(2026, 9, 15);

    private static LoyaltyProgram Objectives() => Program(
        """
        "exclusions": { "categories": ["gift-card"] },
        "objectives": [ { "id": "ca-n1", "name": "Last year's revenue",
          "steps": [ { "percent": 100, "points": 1000 }, { "percent": 110, "points": 1500 }, { "percent": 120, "points": 2000 } ] } ]
        """,
        timeZone: Paris);

    private static MemberState B2B(long yearToDate, params (string Key, long Value)[] flags) =>
        new()
        {
            ReferenceRevenueMinor = 100_000,
            Counters = Counters([("k.y:2026", yearToDate), .. flags]),
        };

    [Fact]
    public void Reaching_a_step_awards_it_once_and_flags_it_for_the_year()
    {
        var outcome = Objectives().Score(B2B(95_000), BasketAt(At, Line(6_000)));

        Assert.Equal([("base-earn", 60L), ("ca-n1@100", 1000L)], outcome.Lines());
        Assert.Equal("Last year's revenue: 100% of the reference revenue reached", outcome.LineFor("ca-n1@100").Reason);
        Assert.Equal([("k.y:2026", 6_000L), ("k.o:ca-n1:2026:100", 1L)], outcome.Deltas());
    }

    [Fact]
    public void Several_steps_can_fire_on_one_purchase()
    {
        var outcome = Objectives().Score(B2B(95_000), BasketAt(At, Line(30_000)));

        Assert.Equal([("base-earn", 300L), ("ca-n1@100", 1000L), ("ca-n1@110", 1500L), ("ca-n1@120", 2000L)], outcome.Lines());
        Assert.Equal(
            [("k.y:2026", 30_000L), ("k.o:ca-n1:2026:100", 1L), ("k.o:ca-n1:2026:110", 1L), ("k.o:ca-n1:2026:120", 1L)],
            outcome.Deltas());
    }

    [Theory]
    [InlineData(109_999, false)]
    [InlineData(110_000, true)]
    public void A_step_fires_from_exactly_its_share_of_the_reference(long yearToDateAfter, bool fires)
    {
        var outcome = Objectives().Score(B2B(yearToDateAfter - 1_000, ("k.o:ca-n1:2026:100", 1)), BasketAt(At, Line(1_000)));

        Assert.Equal(fires, outcome.Breakdown.Any(b => b.RuleId == "ca-n1@110"));
        Assert.DoesNotContain(outcome.Breakdown, b => b.RuleId == "ca-n1@100");
    }

    [Fact]
    public void A_step_already_flagged_this_year_does_not_fire_again()
    {
        var outcome = Objectives().Score(B2B(105_000, ("k.o:ca-n1:2026:100", 1)), BasketAt(At, Line(7_000)));

        Assert.Equal([("base-earn", 70L), ("ca-n1@110", 1500L)], outcome.Lines());
        Assert.Equal([("k.y:2026", 7_000L), ("k.o:ca-n1:2026:110", 1L)], outcome.Deltas());
    }

    [Fact]
    public void A_step_flagged_last_year_fires_again_this_year()
    {
        var outcome = Objectives().Score(B2B(95_000, ("k.o:ca-n1:2025:100", 1)), BasketAt(At, Line(6_000)));

        Assert.Contains(outcome.Breakdown, b => b.RuleId == "ca-n1@100");
    }

    [Fact]
    public void Without_a_reference_revenue_no_step_fires_but_spend_is_still_counted()
    {
        var member = new MemberState { Counters = Counters(("k.y:2026", 1_000_000)) };

        var outcome = Objectives().Score(member, BasketAt(At, Line(6_000)));

        Assert.Equal([("base-earn", 60L)], outcome.Lines());
        Assert.Equal([("k.y:2026", 6_000L)], outcome.Deltas());
    }

    [Fact]
    public void Excluded_lines_count_towards_objectives()
    {
        var outcome = Objectives().Score(B2B(95_000), BasketAt(At, Line(5_000, category: "gift-card")));

        Assert.Equal([("ca-n1@100", 1000L)], outcome.Lines());
    }

    [Fact]
    public void The_objective_year_is_the_local_year()
    {
        // 31 December 2026 23:30 UTC is already 2027 in Paris: the year starts again from this purchase.
        var member = B2B(99_000);

        var outcome = Objectives().Score(member, BasketAt(Utc(2026, 12, 31, 23, 30), Line(2_000)));

        Assert.Equal([("base-earn", 20L)], outcome.Lines());
        Assert.Equal([("k.y:2027", 2_000L)], outcome.Deltas());
    }

    [Fact]
    public void The_year_to_date_crosses_a_step_in_the_local_new_year()
    {
        var member = new MemberState { ReferenceRevenueMinor = 1_000, Counters = Counters(("k.y:2027", 500)) };

        var outcome = Objectives().Score(member, BasketAt(Utc(2026, 12, 31, 23, 30), Line(500)));

        Assert.Equal(1000, outcome.LineFor("ca-n1@100").Points);
        Assert.Equal([("k.y:2027", 500L), ("k.o:ca-n1:2027:100", 1L)], outcome.Deltas());
    }
}
