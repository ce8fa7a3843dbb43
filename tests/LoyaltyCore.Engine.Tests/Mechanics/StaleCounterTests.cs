using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class StaleCounterTests
{
    // 14 May 2026 22:30 UTC is Friday 15 May 00:30 in Paris (UTC+2), ISO week 20.
    private static readonly DateTimeOffset At = Utc(2026, 5, 14, 22, 30);

    private static string[] Stale(params (string Key, long Value)[] counters) =>
        [.. Program(timeZone: Paris).Score(new MemberState { Counters = Counters(counters) }, BasketAt(At, Line(1_000))).StaleCounters.Order(StringComparer.Ordinal)];

    [Fact]
    public void Yesterdays_daily_points_are_stale_and_todays_are_kept()
    {
        Assert.Equal(["k.d:20260514"], Stale(("k.d:20260514", 80), ("k.d:20260515", 20)));
    }

    [Fact]
    public void Purchase_counters_of_past_periods_are_stale()
    {
        var stale = Stale(
            ("k.nd:20260514", 1), ("k.nd:20260515", 1),
            ("k.nw:202619", 1), ("k.nw:202620", 1),
            ("k.nm:202604", 3), ("k.nm:202605", 3),
            ("k.ny:2025", 9), ("k.ny:2026", 9));

        Assert.Equal(["k.nd:20260514", "k.nm:202604", "k.nw:202619", "k.ny:2025"], stale);
    }

    [Fact]
    public void Qualifying_months_older_than_twenty_five_months_are_stale()
    {
        var stale = Stale(("k.q:202404", 1), ("k.q:202405", 1), ("k.q:202512", 1), ("k.q:202605", 1));

        Assert.Equal(["k.q:202404"], stale);
    }

    [Fact]
    public void Year_spend_is_kept_for_one_past_year_and_objective_flags_for_this_year()
    {
        var stale = Stale(("k.y:2024", 1), ("k.y:2025", 1), ("k.y:2026", 1), ("k.o:ca:2025:100", 1), ("k.o:ca:2026:100", 1));

        Assert.Equal(["k.o:ca:2025:100", "k.y:2024"], stale);
    }

    [Fact]
    public void Counters_without_a_period_are_never_stale()
    {
        Assert.Empty(Stale(("k.c:black-friday", 500), ("k.c:2020", 1), ("k.rr", 1), ("k.tr", 20250101), ("k.pl", 12_000)));
    }

    [Fact]
    public void An_objective_whose_id_contains_a_colon_keeps_this_years_flags()
    {
        // Ids may contain ':'; the year is the second-to-last part of k.o:<objective>:<yyyy>:<percent>.
        Assert.Empty(Stale(("k.o:ca:1:2026:100", 1)));
    }

    [Fact]
    public void An_objective_whose_id_contains_a_colon_loses_last_years_flags()
    {
        Assert.Equal(["k.o:ca:n1:2025:100"], Stale(("k.o:ca:n1:2025:100", 1)));
    }

    [Fact]
    public void Scoring_keeps_this_years_flag_of_an_objective_whose_id_contains_a_colon()
    {
        var program = Program(
            """
            "objectives": [ { "id": "ca:1", "steps": [ { "percent": 100, "points": 1000 } ] } ]
            """,
            timeZone: Paris);
        var member = new MemberState { ReferenceRevenueMinor = 1_000, Counters = Counters(("k.y:2026", 5_000), ("k.o:ca:1:2026:100", 1)) };

        var outcome = program.Score(member, BasketAt(At, Line(1_000)));

        Assert.DoesNotContain(outcome.Breakdown, b => b.RuleId == "ca:1@100");
        Assert.DoesNotContain("k.o:ca:1:2026:100", outcome.StaleCounters);
    }

    [Fact]
    public void Staleness_follows_the_local_clock()
    {
        Assert.False(CounterStaleness.IsStale("k.d:20260515", new DateTime(2026, 5, 15, 0, 30, 0, DateTimeKind.Unspecified)));
        Assert.True(CounterStaleness.IsStale("k.d:20260515", new DateTime(2026, 5, 16, 0, 0, 0, DateTimeKind.Unspecified)));
        Assert.False(CounterStaleness.IsStale("not-a-counter", new DateTime(2026, 5, 16, 0, 0, 0, DateTimeKind.Unspecified)));
        Assert.False(CounterStaleness.IsStale("k.d:garbage", new DateTime(2026, 5, 16, 0, 0, 0, DateTimeKind.Unspecified)));
    }
}
