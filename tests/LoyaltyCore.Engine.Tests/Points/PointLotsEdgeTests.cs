using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tests.Points;

/// <summary>The boundaries of lots, expiry and the catalogue: each case is one rule the code must keep.</summary>
public sealed class PointLotsEdgeTests
{
    private static readonly ExpiryPolicy TwelveMonths = ExpiryPolicy.AfterMonths(12, extendOnActivity: false);
    private static readonly DateOnly Today = new(2026, 6, 15);

    private static MemberState State(long balance, params (string Key, long Value)[] counters) =>
        new() { Balance = balance, Counters = ProgramBuilder.Counters(counters) };

    [Fact]
    public void Changes_are_empty_only_without_increments_sets_and_deletes()
    {
        Assert.True(LotChanges.None.IsEmpty);
        Assert.False(new LotChanges([], [new("k.lx", "1")], [], 0, 0).IsEmpty);
        Assert.False(new LotChanges([], [], ["k.lt:1:2"], 0, 0).IsEmpty);
        Assert.False(new LotChanges([new("k.lt:1:2", 1)], [], [], 0, 0).IsEmpty);
    }

    [Fact]
    public void Every_entry_point_refuses_a_missing_argument()
    {
        var state = State(0);
        Assert.Throws<ArgumentNullException>(() => PointLots.TryParse(null!, 1, out _));
        Assert.Throws<ArgumentNullException>(() => PointLots.Open(null!));
        Assert.Throws<ArgumentNullException>(() => PointLots.Unlotted(null!, []));
        Assert.Throws<ArgumentNullException>(() => PointLots.Unlotted(state, null!));
        Assert.Throws<ArgumentNullException>(() => PointLots.Owed(null!, []));
        Assert.Throws<ArgumentNullException>(() => PointLots.ExpiresOn(default, null!));
        Assert.Throws<ArgumentNullException>(() => PointLots.NextExpiry(null!));
        Assert.Throws<ArgumentNullException>(() => PointLots.NextExpiry(state, null!));
        Assert.Throws<ArgumentNullException>(() => PointLots.Change(null!, 1, Today, TwelveMonths, false));
        Assert.Throws<ArgumentNullException>(() => PointLots.Change(state, 1, Today, null!, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => PointLots.Change(state, 1, Today, TwelveMonths, false, reset: -1));
        Assert.Throws<ArgumentNullException>(() => PointLots.Expire(null!, 20260101));
        Assert.Throws<ArgumentNullException>(() => PointLots.Apply(null!, LotChanges.None));
        Assert.Throws<ArgumentNullException>(() => PointLots.Apply(state, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExpiryPolicy.AfterMonths(0, false));
        Assert.Throws<ArgumentOutOfRangeException>(() => ExpiryPolicy.EndOfPeriod(ExpiryPeriod.Year, -1, false));
        Assert.Throws<ArgumentNullException>(() => new RewardCatalogue(null!, NudgePolicy.Default));
        var reward = new Reward("r", "R", 10, null, null, null, new HashSet<string>(), new HashSet<string>(), null);
        Assert.Throws<ArgumentNullException>(() => reward.Check(null!, "member", DateTimeOffset.UnixEpoch));
        Assert.Throws<ArgumentNullException>(() => new RewardCatalogue([reward], NudgePolicy.Default).NudgeFor(null!, "member", DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void A_lot_counter_at_zero_is_no_open_lot_and_no_next_expiry()
    {
        var state = State(0, ("k.lt:20260101:20270101", 0));

        Assert.Empty(PointLots.Open(state));
        Assert.Null(PointLots.NextExpiry(state));
    }

    [Fact]
    public void Lots_are_oldest_by_the_day_earned_not_by_their_expiry()
    {
        // Earned in January under a long lifetime, in March under a short one: January's is still the older.
        var state = State(30, ("k.lt:20260301:20270301", 10), ("k.lt:20260101:20280101", 20));

        Assert.Equal(["k.lt:20260101:20280101", "k.lt:20260301:20270301"], PointLots.Open(state).Select(l => l.Key));
        Assert.Equal(["k.lt:20260101:20280101"], PointLots.Change(state, -20, Today, TwelveMonths, false).Deletes);
    }

    [Fact]
    public void The_next_expiry_restarts_its_sum_at_an_earlier_day()
    {
        // The later lot is met first: its points must not be added to the earlier day's.
        var state = State(60, ("k.lt:20260301:20280301", 40), ("k.lt:20260101:20270101", 20));

        Assert.Equal((20L, 20270101), PointLots.NextExpiry(state));
    }

    [Fact]
    public void An_extension_alone_changes_no_lot_and_apply_shows_it()
    {
        var extending = ExpiryPolicy.AfterMonths(12, extendOnActivity: true);
        var state = State(10, ("k.le:20250101:20260101", 10));

        var changes = PointLots.Change(state, 0, Today, extending, activity: true);
        var after = PointLots.Apply(state, changes);

        Assert.Empty(changes.Increments);
        Assert.Equal(20270615, after.Counter(PointLots.ExtendedToKey));
        Assert.Equal(10, after.Balance);
    }

    [Fact]
    public void Apply_removes_the_lots_a_change_empties()
    {
        var state = State(30, ("k.lt:20260101:20270101", 30));

        var after = PointLots.Apply(state, PointLots.Change(state, -30, Today, TwelveMonths, false));

        Assert.False(after.Counters.ContainsKey("k.lt:20260101:20270101"));
        Assert.Equal(0, after.Balance);
    }

    [Fact]
    public void Earning_while_owing_repays_then_opens_a_lot_marked_with_its_expiry()
    {
        var state = State(-10, (PointLots.DebtKey, -10));

        var changes = PointLots.Change(state, 50, Today, TwelveMonths, activity: true);

        Assert.Equal([PointLots.DebtKey], changes.Deletes);
        Assert.Equal([("k.lt:20260615:20270615", 40L)], changes.Increments.Select(i => (i.Key, i.Value)));
        Assert.Equal(20270615, changes.LotExpiresOn);
    }

    [Fact]
    public void Points_owed_by_a_reset_in_the_same_change_are_repaid_by_its_earnings()
    {
        // Owing 10, a reset of 5 (owed too, no lot being left), then 20 earned: 15 repaid, 5 into the day's lot.
        var state = State(-10, (PointLots.DebtKey, -10));

        var changes = PointLots.Change(state, 15, Today, TwelveMonths, activity: true, reset: 5);

        Assert.Equal([("k.lt:20260615:20270615", 5L)], changes.Increments.Select(i => (i.Key, i.Value)));
        Assert.Equal([PointLots.DebtKey], changes.Deletes);
    }

    [Fact]
    public void Two_spends_in_one_change_see_what_the_first_took_of_the_points_from_before_lots()
    {
        // 100 from before lots and a lot of 50; a reset of 80 then a debit of 50: 20 from before lots, 30 from the lot.
        var state = State(150, ("k.lt:20260101:20270101", 50));

        var changes = PointLots.Change(state, -130, Today, TwelveMonths, activity: false, reset: 80);

        Assert.Equal([("k.lt:20260101:20270101", -30L)], changes.Increments.Select(i => (i.Key, i.Value)));
    }

    [Fact]
    public void A_lot_spent_and_earned_back_by_one_change_is_left_as_it_was()
    {
        var state = State(50, ("k.lt:20260615:20270615", 50));

        var changes = PointLots.Change(state, 0, Today, TwelveMonths, activity: true, reset: 50);

        Assert.True(changes.IsEmpty);
    }

    [Fact]
    public void A_reward_opens_at_its_start_and_a_nudge_at_exactly_the_maximum_is_kept()
    {
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        var reward = new Reward("box", "Box", 100, null, start, null, new HashSet<string>(), new HashSet<string>(), null);
        var member = new MemberState { Balance = 60, Tier = "member" };

        Assert.Equal(RewardBlock.Points, reward.Check(member, "member", start));
        Assert.Equal(RewardBlock.Window, reward.Check(member, "member", start.AddTicks(-1)));
        Assert.Equal(40, new RewardCatalogue([reward], new NudgePolicy(NudgeChoice.Closest, 40)).NudgeFor(member, "member", start)!.Value.PointsNeeded);
        Assert.Null(new RewardCatalogue([reward], new NudgePolicy(NudgeChoice.Closest, 39)).NudgeFor(member, "member", start));
    }

    [Fact]
    public void The_policy_without_expiry_extends_nothing()
    {
        Assert.False(ExpiryPolicy.Never.ExtendOnActivity);
        Assert.Null(ExpiryPolicy.Never.Period);
        Assert.Equal(0, ExpiryPolicy.Never.Months);
    }
}

public sealed class FundedLotTests
{
    private static readonly ExpiryPolicy TwelveMonths = ExpiryPolicy.AfterMonths(12, extendOnActivity: false);
    private static readonly DateOnly Today = new(2026, 6, 15);

    [Fact]
    public void Points_a_partner_funds_go_to_a_lot_of_its_own_that_names_it()
    {
        var state = new MemberState { Balance = 50, Counters = ProgramBuilder.Counters(("k.lt:20260615:20270615", 50)) };

        var changes = PointLots.Change(state, 30, Today, TwelveMonths, activity: false, funder: "acme:travel");

        Assert.Equal([("k.lt:20260615:20270615:acme:travel", 30L)], changes.Increments.Select(i => (i.Key, i.Value)));
        Assert.True(PointLots.TryParse("k.lt:20260615:20270615:acme:travel", 30, out var lot));
        Assert.Equal(("acme:travel", 20260615, 20270615), (lot.Funder, lot.EarnedOn, lot.ExpiresOn));
        Assert.True(PointLots.TryParse("k.lt:20260615:20270615", 30, out var own));
        Assert.Null(own.Funder);
        Assert.False(PointLots.TryParse("k.lt:20260615:20270615:", 30, out _));
        Assert.False(PointLots.TryParse("k.lt:20260615:x:acme", 30, out _));
    }

    [Fact]
    public void Funded_points_removed_are_counted_by_partner_whether_a_lot_shrinks_or_goes()
    {
        var state = new MemberState
        {
            Balance = 100,
            Counters = ProgramBuilder.Counters(("k.lt:20250101:20260101:acme", 30), ("k.lt:20250101:20260101:zeta", 20), ("k.lt:20250101:20260101", 10), ("k.lt:20260301:20270301:acme", 40)),
        };

        var expired = PointLots.Expire(state, 20260101);
        var spent = PointLots.Change(state, -75, Today, TwelveMonths, activity: false);

        Assert.Equal(new Dictionary<string, long> { ["acme"] = 30, ["zeta"] = 20 }, PointLots.FundedPointsRemoved(state, expired));
        // Oldest first, the key breaking the tie of one day: the program's lot, then acme's, then zeta's, then March's.
        Assert.Equal(new Dictionary<string, long> { ["acme"] = 45, ["zeta"] = 20 }, PointLots.FundedPointsRemoved(state, spent));
        Assert.Empty(PointLots.FundedPointsRemoved(state, PointLots.Change(state, 5, Today, TwelveMonths, activity: false)));
    }
}
