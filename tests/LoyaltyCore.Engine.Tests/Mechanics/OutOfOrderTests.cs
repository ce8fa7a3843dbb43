using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>Purchases scored out of order: a late upload dated in an earlier period, between two of today's.</summary>
public sealed class OutOfOrderTests
{
    // Friday 15 May 2026, 12:00 in Paris; ISO week 20.
    private static readonly DateTimeOffset Today = Utc(2026, 5, 15, 10, 0);

    [Theory]
    [InlineData("k.d:20260515", -1)]
    [InlineData("k.nd:20260515", -1)]
    [InlineData("k.nw:202620", -7)]
    [InlineData("k.nm:202605", -31)]
    [InlineData("k.ny:2026", -366)]
    [InlineData("k.q:202605", -31)]
    [InlineData("k.y:2026", -366)]
    [InlineData("k.o:ca:2026:100", -366)]
    public void A_purchase_dated_in_an_earlier_period_leaves_the_later_periods_counter(string key, int days)
    {
        var member = new MemberState { Counters = Counters((key, 7)) };

        var outcome = Program(timeZone: Paris).Score(member, BasketAt(Today.AddDays(days), Line(1_000)));

        Assert.DoesNotContain(key, outcome.StaleCounters);
        Assert.DoesNotContain(outcome.CounterDeltas, d => d.Key == key);
    }

    [Theory]
    [InlineData("day")]
    [InlineData("week")]
    [InlineData("month")]
    [InlineData("year")]
    public void A_late_purchase_between_two_of_this_periods_neither_resets_nor_counts_toward_the_nth_purchase(string period)
    {
        var program = Program(
            """
            "rules": [ { "id": "second", "name": "Second visit", "type": "bonus", "points": 150, "when": { "nthPurchase": { "n": 2, "period": "PERIOD" } } } ]
            """.Replace("PERIOD", period, StringComparison.Ordinal),
            timeZone: Paris);
        var earlier = period switch { "day" => -1, "week" => -7, "month" => -31, _ => -366 };

        var member = new MemberState();
        var first = Score(program, ref member, Today);
        var late = Score(program, ref member, Today.AddDays(earlier));
        var second = Score(program, ref member, Today.AddHours(1));

        Assert.DoesNotContain(first.Breakdown, b => b.RuleId == "second");
        Assert.DoesNotContain(late.Breakdown, b => b.RuleId == "second");
        Assert.Contains(second.Breakdown, b => b.RuleId == "second");
    }

    [Fact]
    public void A_late_purchase_does_not_reopen_todays_daily_cap()
    {
        var program = Program(""" "caps": { "perMemberPerDay": 100 } """, timeZone: Paris);

        var member = new MemberState();
        var today = Score(program, ref member, Today, 8_000);
        var yesterday = Score(program, ref member, Today.AddDays(-1), 8_000);
        var later = Score(program, ref member, Today.AddHours(1), 8_000);

        Assert.Equal(80, today.PointsEarned);
        // Yesterday's own day: its counter starts from what the state holds of that day.
        Assert.Equal(80, yesterday.PointsEarned);
        // Today had 80 of its 100: the late upload did not reset that.
        Assert.Equal(20, later.PointsEarned);
        Assert.Equal(100, member.Counter("k.d:20260515"));
    }

    /// <summary>Scores a purchase and applies what it changes, as the hot state does.</summary>
    private static ScoreOutcome Score(LoyaltyProgram program, ref MemberState member, DateTimeOffset at, long totalMinor = 1_000)
    {
        var outcome = program.Score(member, BasketAt(at, Line(totalMinor)));
        var counters = new Dictionary<string, long>(member.Counters, StringComparer.Ordinal);
        foreach (var (key, delta) in outcome.CounterDeltas)
        {
            counters[key] = counters.GetValueOrDefault(key) + delta;
        }

        foreach (var (key, value) in outcome.CounterSets)
        {
            counters[key] = value;
        }

        foreach (var key in outcome.StaleCounters)
        {
            counters.Remove(key);
        }

        member = new MemberState
        {
            Balance = member.Balance + outcome.PointsEarned,
            LifetimeSpendMinor = member.LifetimeSpendMinor + outcome.SpendMinor,
            Purchases = member.Purchases + 1,
            Tier = outcome.TierAfter.Id,
            Counters = counters,
        };
        return outcome;
    }
}
