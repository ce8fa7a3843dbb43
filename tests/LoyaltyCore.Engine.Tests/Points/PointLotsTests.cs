using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tests.Points;

public sealed class PointLotsTests
{
    private static readonly ExpiryPolicy TwelveMonths = ExpiryPolicy.AfterMonths(12, extendOnActivity: false);
    private static readonly ExpiryPolicy Extending = ExpiryPolicy.AfterMonths(12, extendOnActivity: true);
    private static readonly DateOnly Today = new(2026, 6, 15);

    private static MemberState State(long balance, params (string Key, long Value)[] counters) =>
        new() { Balance = balance, Counters = ProgramBuilder.Counters(counters) };

    private static (string, long)[] Increments(LotChanges changes) => [.. changes.Increments.Select(i => (i.Key, i.Value))];

    [Fact]
    public void Earned_points_open_a_lot_of_the_day_with_the_policy_expiry()
    {
        var changes = PointLots.Change(State(0), 120, Today, TwelveMonths, activity: true);

        Assert.Equal([("k.lt:20260615:20270615", 120L)], Increments(changes));
        Assert.Empty(changes.Deletes);
        Assert.Empty(changes.Sets);
        Assert.Equal(20270615, changes.LotExpiresOn);
        Assert.Equal(120, changes.Points);
    }

    [Fact]
    public void Points_that_never_expire_are_kept_in_a_lot_without_an_expiry_and_mark_no_day()
    {
        var changes = PointLots.Change(State(0), 50, Today, ExpiryPolicy.Never, activity: true);

        Assert.Equal([("k.lt:20260615:0", 50L)], Increments(changes));
        Assert.Equal(0, changes.LotExpiresOn);
    }

    [Fact]
    public void Spending_takes_from_points_earned_before_lots_then_the_oldest_lot_first()
    {
        // Balance 300: 100 unlotted, a lot of 150 from January and one of 50 from March.
        var state = State(300, ("k.lt:20260301:20270301", 50), ("k.lt:20260110:20270110", 150));

        var changes = PointLots.Change(state, -280, Today, TwelveMonths, activity: false);

        Assert.Equal([("k.lt:20260301:20270301", -30L)], Increments(changes));
        Assert.Equal(["k.lt:20260110:20270110"], changes.Deletes);
        Assert.Equal(0, changes.LotExpiresOn);
    }

    [Fact]
    public void A_return_takes_from_the_lots_of_its_purchase_day_first()
    {
        var state = State(200, ("k.lt:20260110:20270110", 100), ("k.lt:20260301:20270301", 100));

        var changes = PointLots.Change(state, -130, Today, TwelveMonths, activity: false, preferEarnedOn: 20260301);

        Assert.Equal(["k.lt:20260301:20270301"], changes.Deletes);
        Assert.Equal([("k.lt:20260110:20270110", -30L)], Increments(changes));
    }

    [Fact]
    public void A_debit_beyond_every_lot_is_owed_and_the_next_earnings_repay_it_first()
    {
        var state = State(40, ("k.lt:20260110:20270110", 40));

        var debit = PointLots.Change(state, -100, Today, TwelveMonths, activity: false);
        Assert.Equal(["k.lt:20260110:20270110"], debit.Deletes);
        Assert.Equal([(PointLots.DebtKey, -60L)], Increments(debit));

        var owing = State(-60, (PointLots.DebtKey, -60));
        var partly = PointLots.Change(owing, 25, Today, TwelveMonths, activity: true);
        Assert.Equal([(PointLots.DebtKey, 25L)], Increments(partly));
        Assert.Equal(0, partly.LotExpiresOn);

        var repaid = PointLots.Change(owing, 100, Today, TwelveMonths, activity: true);
        Assert.Equal([PointLots.DebtKey], repaid.Deletes);
        Assert.Equal([("k.lt:20260615:20270615", 40L)], Increments(repaid));
    }

    [Fact]
    public void A_reset_is_spent_from_the_lots_the_member_had_before_what_the_transaction_earns()
    {
        // 1000 points in a lot due soon, all reset by a review at a purchase earning 1200: the new lot keeps the 1200.
        var state = State(1000, ("k.lt:20250701:20260701", 1000));

        var changes = PointLots.Change(state, 200, Today, TwelveMonths, activity: true, reset: 1000);

        Assert.Equal(["k.lt:20250701:20260701"], changes.Deletes);
        Assert.Equal([("k.lt:20260615:20270615", 1200L)], Increments(changes));
        Assert.Equal(200, changes.Points);
    }

    [Fact]
    public void A_lot_emptied_and_earned_into_by_one_transaction_is_moved_by_the_difference_never_deleted()
    {
        var state = State(50, ("k.lt:20260615:20270615", 50));

        var changes = PointLots.Change(state, 30, Today, TwelveMonths, activity: true, reset: 50);

        Assert.Empty(changes.Deletes);
        Assert.Equal([("k.lt:20260615:20270615", 30L)], Increments(changes));
    }

    [Fact]
    public void A_balance_below_zero_from_before_lots_were_kept_is_owed_and_repaid_first()
    {
        var state = State(-50);

        Assert.Equal(-50, PointLots.Owed(state, PointLots.Open(state)));
        Assert.Equal(0, PointLots.Unlotted(state, PointLots.Open(state)));
        var changes = PointLots.Change(state, 100, Today, TwelveMonths, activity: true);
        var after = Applied(state, 100, changes);

        Assert.Equal([("k.lt:20260615:20270615", 50L)], Increments(changes));
        Assert.Equal(0, PointLots.Owed(after, PointLots.Open(after)));
        Assert.Equal(50, PointLots.Open(after).Sum(l => l.Points));
    }

    [Fact]
    public void Apply_gives_the_member_as_the_changes_leave_them()
    {
        var state = State(100, ("k.lt:20260101:20270101", 100), ("k.d:20260615", 7));
        var changes = PointLots.Change(state, -40, Today, TwelveMonths, activity: false);

        var after = PointLots.Apply(state, changes);

        Assert.Equal(60, after.Balance);
        Assert.Equal(60, after.Counter("k.lt:20260101:20270101"));
        Assert.Equal(7, after.Counter("k.d:20260615"));
        Assert.Same(state, PointLots.Apply(state, LotChanges.None));
    }

    [Fact]
    public void The_balance_is_always_the_sum_of_lots_owed_and_unlotted_points()
    {
        var random = new Random(7);
        var state = State(0);
        for (var step = 0; step < 400; step++)
        {
            var delta = random.Next(-150, 200);
            var day = Today.AddDays(random.Next(0, 40));
            var reset = random.Next(5) == 0 ? Math.Max(0, Math.Min(state.Balance, random.Next(0, 100))) : 0;
            var changes = PointLots.Change(state, delta - reset, day, TwelveMonths, activity: delta > 0, preferEarnedOn: random.Next(3) == 0 ? ExpiryPolicy.DayKey(day) : 0, reset: reset);
            state = Applied(state, delta - reset, changes);
            var lots = PointLots.Open(state);
            Assert.Equal(0, PointLots.Unlotted(state, lots));
            Assert.Equal(state.Balance, lots.Sum(l => l.Points) + PointLots.Owed(state, lots));
            Assert.True(state.Counter(PointLots.DebtKey) <= 0);
            Assert.True(state.Counter(PointLots.DebtKey) == 0 || lots.Count == 0, "points owed only when no lot is left");
        }
    }

    [Fact]
    public void Open_lists_lots_oldest_first_and_ignores_other_counters()
    {
        var state = State(60, ("k.lt:20260301:20270301", 10), ("k.le:20260110:20270110", 20), ("k.lt:20260110:20260201", 30), ("k.d:20260101", 5), ("k.lt:garbage", 3));

        var lots = PointLots.Open(state);

        Assert.Equal(["k.lt:20260110:20260201", "k.le:20260110:20270110", "k.lt:20260301:20270301"], lots.Select(l => l.Key));
        Assert.True(lots[1].Extends);
        Assert.False(lots[0].Extends);
        Assert.Equal(20260110, lots[0].EarnedOn);
        Assert.Equal(20260201, lots[0].ExpiresOn);
    }

    [Theory]
    [InlineData("k.lt:20260101:20270101", true)]
    [InlineData("k.le:20260101:0", true)]
    [InlineData("k.lt:20260101", false)]
    [InlineData("k.lt:x:20270101", false)]
    [InlineData("k.lt:20260101:-1", false)]
    [InlineData("k.lx", false)]
    [InlineData("k.d:20260101", false)]
    public void Only_lot_keys_parse_as_lots(string key, bool parses)
    {
        Assert.Equal(parses, PointLots.TryParse(key, 1, out _));
    }

    [Fact]
    public void Activity_extends_every_extending_lot_to_its_own_expiry()
    {
        var state = State(100, ("k.le:20250701:20260701", 60), ("k.lt:20250701:20260701", 40));

        var changes = PointLots.Change(state, 0, Today, Extending, activity: true);

        Assert.Equal([(PointLots.ExtendedToKey, "20270615")], changes.Sets.Select(s => (s.Key, s.Value)));
        Assert.Equal(20270615, changes.LotExpiresOn);
        var after = Applied(state, 0, changes);
        var lots = PointLots.Open(after);
        Assert.Equal(20270615, PointLots.ExpiresOn(lots.Single(l => l.Extends), after));
        Assert.Equal(20260701, PointLots.ExpiresOn(lots.Single(l => !l.Extends), after));
        // Under a policy without extension, or without activity, nothing moves.
        Assert.Same(LotChanges.None, PointLots.Change(state, 0, Today, TwelveMonths, activity: true));
        Assert.Same(LotChanges.None, PointLots.Change(state, 0, Today, Extending, activity: false));
        // An earlier activity never pulls the extension back.
        Assert.Same(LotChanges.None, PointLots.Change(after, 0, Today.AddDays(-10), Extending, activity: true));
    }

    [Fact]
    public void Expiry_takes_the_lots_due_and_leaves_the_rest()
    {
        var state = State(100, ("k.lt:20250101:20260101", 30), ("k.lt:20250601:20260601", 20), ("k.lt:20260301:20270301", 50));

        var changes = PointLots.Expire(state, 20260601);

        Assert.Equal(["k.lt:20250101:20260101", "k.lt:20250601:20260601"], changes.Deletes);
        Assert.Equal(-50, changes.Points);
        Assert.Equal(0, changes.LotExpiresOn);
        Assert.Same(LotChanges.None, PointLots.Expire(state, 20251231));
    }

    [Fact]
    public void Expiry_spares_the_points_open_holds_reserve_and_marks_them_due_again_the_next_day()
    {
        // 100 points, 80 held: only 20 can expire of the 50 due.
        var state = State(100, ("k.lt:20250101:20260101", 30), ("k.lt:20250601:20260601", 20), ("k.lt:20260301:20270301", 50), (CounterKeys.HeldPoints, 80));

        var changes = PointLots.Expire(state, 20260601);

        Assert.Equal(-20, changes.Points);
        Assert.Equal([("k.lt:20250101:20260101", -20L)], Increments(changes));
        Assert.Equal(20260602, changes.LotExpiresOn);
    }

    [Fact]
    public void Due_points_all_held_expire_nothing_but_are_marked_for_the_next_day()
    {
        var state = State(30, ("k.lt:20250101:20260101", 30), (CounterKeys.HeldPoints, 30));

        var changes = PointLots.Expire(state, 20260601);

        Assert.Equal((0L, 20260602), (changes.Points, changes.LotExpiresOn));
        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void Expiry_never_touches_points_earned_before_lots_or_lots_that_never_expire()
    {
        var state = State(100, ("k.lt:20200101:0", 30));

        Assert.Same(LotChanges.None, PointLots.Expire(state, 20990101));
    }

    [Fact]
    public void An_extending_lot_is_due_only_past_the_members_extension()
    {
        var state = State(60, ("k.le:20250101:20260101", 60), (PointLots.ExtendedToKey, 20260901));

        Assert.Same(LotChanges.None, PointLots.Expire(state, 20260601));
        Assert.Equal(-60, PointLots.Expire(state, 20260901).Points);
    }

    [Fact]
    public void The_next_expiry_sums_every_lot_of_the_earliest_day()
    {
        var state = State(100, ("k.lt:20250101:20260701", 30), ("k.lt:20250102:20260701", 20), ("k.lt:20260301:20270301", 50), ("k.lt:20200101:0", 5));

        Assert.Equal((50L, 20260701), PointLots.NextExpiry(state));
        Assert.Null(PointLots.NextExpiry(State(5, ("k.lt:20200101:0", 5))));
        Assert.Null(PointLots.NextExpiry(State(0)));
    }

    [Fact]
    public void The_next_expiry_after_a_change_counts_what_the_change_does_to_the_lots()
    {
        var state = State(100, ("k.lt:20250101:20260701", 30), ("k.lt:20260301:20270301", 70));

        var spend = PointLots.Change(state, -40, Today, TwelveMonths, activity: false);
        Assert.Equal((60L, 20270301), PointLots.NextExpiry(state, spend));

        var partly = PointLots.Change(state, -10, Today, TwelveMonths, activity: false);
        Assert.Equal((20L, 20260701), PointLots.NextExpiry(state, partly));

        var earnOnly = PointLots.Change(State(0), 15, Today, TwelveMonths, activity: true);
        Assert.Equal((15L, 20270615), PointLots.NextExpiry(State(0), earnOnly));

        var extending = State(10, ("k.le:20250101:20260101", 10));
        var extended = PointLots.Change(extending, 0, Today, Extending, activity: true);
        Assert.Equal((10L, 20270615), PointLots.NextExpiry(extending, extended));
    }

    // What the hot state does with the changes: increments, then sets, then deletions.
    private static MemberState Applied(MemberState state, long delta, LotChanges changes)
    {
        var counters = new Dictionary<string, long>(state.Counters, StringComparer.Ordinal);
        foreach (var (key, value) in changes.Increments)
        {
            counters[key] = counters.GetValueOrDefault(key) + value;
        }

        foreach (var (key, value) in changes.Sets)
        {
            counters[key] = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        foreach (var key in changes.Deletes)
        {
            counters.Remove(key);
        }

        return new MemberState { Balance = state.Balance + delta, Counters = counters };
    }
}

public sealed class MemberStateCopyTests
{
    [Fact]
    public void A_copy_with_another_balance_and_counters_keeps_every_other_property()
    {
        var state = new MemberState
        {
            Balance = 1, LifetimeSpendMinor = 2, Tier = "gold", Purchases = 3, EnrolledAt = DateTimeOffset.UnixEpoch.AddDays(4),
            Segments = ["vip"], Membership = "plus", MembershipExpiresAt = DateTimeOffset.UnixEpoch.AddDays(5), ReferenceRevenueMinor = 6,
            TierFloor = "silver", TierFloorUntil = 20270101, Birthday = "02-29", ReferredBy = "bob", Counters = new Dictionary<string, long> { ["k.x"] = 7 },
        };
        var counters = new Dictionary<string, long> { ["k.y"] = 8 };

        var copy = state.With(9, counters);

        // Every public property but the two changed, so one added later cannot be forgotten by the copy.
        foreach (var property in typeof(MemberState).GetProperties().Where(p => p.GetIndexParameters().Length == 0 && p.Name is not ("Balance" or "Counters" or "AvailablePoints")))
        {
            Assert.Equal(property.GetValue(state), property.GetValue(copy));
        }

        Assert.Equal(9, copy.Balance);
        Assert.Same(counters, copy.Counters);
        Assert.Same(state.Counters, state.WithBalance(10).Counters);
    }
}
