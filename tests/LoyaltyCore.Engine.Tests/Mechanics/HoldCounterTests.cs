using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class HoldCounterTests
{
    private static readonly DateTimeOffset At = Utc(2026, 5, 14, 10, 0);

    [Fact]
    public void Available_points_are_the_balance_less_the_points_held()
    {
        var state = new MemberState { Balance = 500, Counters = Counters((CounterKeys.HeldPoints, 120)) };

        Assert.Equal(120, state.HeldPoints);
        Assert.Equal(380, state.AvailablePoints);
    }

    [Fact]
    public void Without_holds_everything_is_available()
    {
        var state = new MemberState { Balance = 75 };

        Assert.Equal(0, state.HeldPoints);
        Assert.Equal(75, state.AvailablePoints);
    }

    [Fact]
    public void Hold_counters_are_never_stale_even_with_numeric_ids()
    {
        // Hold ids are transaction ids, which may look like a day or a year: they must not be taken for one.
        var counters = Counters(
            (CounterKeys.HeldPoints, 30), (CounterKeys.HoldPoints("20200101"), 30), (CounterKeys.HoldExpiry("20200101"), 1_600_000_000_000),
            ("k.d:20260513", 5));

        var stale = Program().Score(new MemberState { Balance = 100, Counters = counters }, BasketAt(At, Line(1_000))).StaleCounters;

        Assert.Equal(["k.d:20260513"], stale);
    }

    [Fact]
    public void Hold_keys_name_the_hold()
    {
        Assert.Equal("k.h:pos-7", CounterKeys.HoldPoints("pos-7"));
        Assert.Equal("k.hx:pos-7", CounterKeys.HoldExpiry("pos-7"));
    }
}
