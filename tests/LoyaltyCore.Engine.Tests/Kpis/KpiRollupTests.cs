using LoyaltyCore.Engine.Kpis;

namespace LoyaltyCore.Engine.Tests.Kpis;

public sealed class KpiRollupTests
{
    private static KpiRow Row(string member = "m1", int kind = 1, int channel = 1, long points = 45, long spend = 4_520, int day = 20261207,
        string rules = "base", string tier = "member", long sequence = 1, bool purchase = true) =>
        new(member, kind, channel, points, spend, day, rules, tier, sequence, purchase);

    [Fact]
    public void Rows_of_a_day_kind_and_channel_add_up_credits_and_debits_apart()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(points: 45));
        rollup.Add(Row(points: 30, sequence: 2));
        rollup.Add(Row(kind: 2, points: -20, spend: 0, sequence: 3, purchase: false));
        rollup.Add(Row(points: -5, spend: 100, sequence: 4));

        var purchases = rollup.Daily[new DailyKey(20261207, 1, 1)];
        var redemptions = rollup.Daily[new DailyKey(20261207, 2, 1)];
        Assert.Equal((3L, 75L, 5L, 9_140L), (purchases.Entries, purchases.Credits, purchases.Debits, purchases.SpendMinor));
        Assert.Equal((1L, 0L, 20L, 0L), (redemptions.Entries, redemptions.Credits, redemptions.Debits, redemptions.SpendMinor));
        Assert.Equal(4, rollup.Rows);
        Assert.Equal(2, rollup.Daily.Count);
    }

    [Fact]
    public void A_zero_point_row_counts_but_credits_and_debits_nothing()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(points: 0));

        var day = rollup.Daily[new DailyKey(20261207, 1, 1)];
        Assert.Equal((1L, 0L, 0L), (day.Entries, day.Credits, day.Debits));
    }

    [Fact]
    public void Days_kinds_and_channels_are_kept_apart()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(day: 20261207));
        rollup.Add(Row(day: 20261208));
        rollup.Add(Row(channel: 2));
        rollup.Add(Row(kind: 6, purchase: false));

        Assert.Equal(4, rollup.Daily.Count);
        Assert.All(rollup.Daily.Values, d => Assert.Equal(1, d.Entries));
    }

    [Fact]
    public void Each_rule_of_a_row_counts_the_row_once_with_its_points_and_empty_ids_are_skipped()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(rules: "base,double-weekend", points: 90));
        rollup.Add(Row(rules: "base,,", points: 45));
        rollup.Add(Row(rules: string.Empty, points: 10));

        Assert.Equal((2L, 135L), (rollup.Rules[new RuleKey(20261207, 1, "base")].Entries, rollup.Rules[new RuleKey(20261207, 1, "base")].Points));
        Assert.Equal((1L, 90L), (rollup.Rules[new RuleKey(20261207, 1, "double-weekend")].Entries, rollup.Rules[new RuleKey(20261207, 1, "double-weekend")].Points));
        Assert.Equal(2, rollup.Rules.Count);
    }

    [Fact]
    public void A_member_keeps_their_first_day_last_purchase_day_purchases_and_spend()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(day: 20261205, sequence: 1));
        rollup.Add(Row(day: 20261203, sequence: 2));
        rollup.Add(Row(day: 20261209, kind: 2, points: -5, spend: 0, sequence: 3, purchase: false));
        rollup.Add(Row(day: 20261207, spend: 1_000, sequence: 4));

        var member = rollup.Members["m1"];
        Assert.Equal(20261203, member.FirstDay);
        // The redemption is later, but only purchases make a member active.
        Assert.Equal(20261207, member.LastPurchaseDay);
        Assert.Equal(3, member.Purchases);
        Assert.Equal(4_520 + 4_520 + 1_000, member.SpendMinor);
    }

    [Fact]
    public void A_member_without_purchases_has_no_last_purchase_day()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(kind: 6, points: 10, spend: 0, purchase: false));

        var member = rollup.Members["m1"];
        Assert.Equal((0, 0L, 0L, 20261207), (member.LastPurchaseDay, member.Purchases, member.SpendMinor, member.FirstDay));
    }

    [Fact]
    public void The_tier_is_the_one_of_the_members_latest_row_whatever_the_order_rows_come_in()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(tier: "gold", sequence: 5));
        rollup.Add(Row(tier: "member", sequence: 2));
        rollup.Add(Row(tier: "silver", sequence: 5, member: "m2"));
        rollup.Add(Row(tier: "gold", sequence: 5, member: "m2"));

        Assert.Equal(("gold", 5L), (rollup.Members["m1"].Tier, rollup.Members["m1"].TierSequence));
        // A tie keeps the later row (rows of one sequence come in commit order).
        Assert.Equal("gold", rollup.Members["m2"].Tier);
    }

    [Fact]
    public void A_first_row_at_sequence_zero_sets_the_tier()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(tier: "silver", sequence: 0));

        Assert.Equal(("silver", 0L), (rollup.Members["m1"].Tier, rollup.Members["m1"].TierSequence));
    }

    [Fact]
    public void Members_are_kept_apart()
    {
        var rollup = new KpiRollup();
        rollup.Add(Row(member: "m1"));
        rollup.Add(Row(member: "m2"));
        rollup.Add(Row(member: "M1"));

        Assert.Equal(3, rollup.Members.Count);
        Assert.All(rollup.Members.Values, m => Assert.Equal(1, m.Purchases));
    }

    [Fact]
    public void Summing_pages_apart_gives_what_summing_them_at_once_gives()
    {
        var rows = Enumerable.Range(0, 60).Select(i => Row(member: $"m{i % 7}", kind: 1 + (i % 3), channel: i % 4, points: (i * 37 % 90) - 30,
            spend: i * 13, day: 20261201 + (i % 5), rules: i % 2 == 0 ? "a,b" : "c", sequence: i, purchase: i % 3 == 0)).ToList();
        var whole = new KpiRollup();
        rows.ForEach(r => whole.Add(r));
        var pages = rows.Chunk(9).Select(page =>
        {
            var rollup = new KpiRollup();
            foreach (var row in page)
            {
                rollup.Add(row);
            }

            return rollup;
        }).ToList();

        foreach (var (key, totals) in whole.Daily)
        {
            var parts = pages.Select(p => p.Daily.GetValueOrDefault(key)).OfType<DailyTotals>().ToList();
            Assert.Equal(totals.Entries, parts.Sum(p => p.Entries));
            Assert.Equal(totals.Credits, parts.Sum(p => p.Credits));
            Assert.Equal(totals.Debits, parts.Sum(p => p.Debits));
            Assert.Equal(totals.SpendMinor, parts.Sum(p => p.SpendMinor));
        }

        foreach (var (key, totals) in whole.Rules)
        {
            Assert.Equal(totals.Points, pages.Select(p => p.Rules.GetValueOrDefault(key)).OfType<RuleTotals>().Sum(p => p.Points));
        }

        Assert.Equal(whole.Daily.Values.Sum(d => d.Credits - d.Debits), rows.Sum(r => r.Points));
    }
}
