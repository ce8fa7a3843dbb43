using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Points;

public sealed class RewardCatalogueTests
{
    private const string Catalogue = """
        "rewards": [
          { "id": "mug", "name": "Mug", "cost": 500 },
          { "id": "tablet", "name": "Tablet", "cost": 20000, "stock": 10, "perMemberLimit": 1 },
          { "id": "lounge", "name": "Lounge pass", "cost": 3000, "tiers": ["gold"] },
          { "id": "vip-gift", "name": "VIP gift", "cost": 1000, "segments": ["vip", "staff"] },
          { "id": "xmas", "name": "Christmas box", "cost": 800, "window": { "start": "2026-12-01", "end": "2026-12-25" } }
        ]
        """;

    private static readonly DateTimeOffset InDecember = Utc(2026, 12, 10);
    private static readonly DateTimeOffset InJune = Utc(2026, 6, 10);

    private static MemberState Member(long balance, string[]? segments = null, params (string Key, long Value)[] counters) =>
        new() { Balance = balance, Tier = "member", Segments = segments ?? [], Counters = Counters(counters) };

    [Fact]
    public void The_catalogue_is_read_in_document_order_with_every_field()
    {
        var rewards = Program(Catalogue).Rewards;

        Assert.Equal(["mug", "tablet", "lounge", "vip-gift", "xmas"], rewards.Rewards.Select(r => r.Id));
        var tablet = rewards.Find("tablet")!;
        Assert.Equal(("Tablet", 20000L, 10L, 1L), (tablet.Name, tablet.Cost, tablet.Stock!.Value, tablet.PerMemberLimit!.Value));
        Assert.Equal("reward:tablet", tablet.StockId);
        Assert.Equal("k.rw:tablet", tablet.ClaimsKey);
        Assert.Null(rewards.Find("mug")!.Stock);
        Assert.Equal(Utc(2026, 12, 1, 0), rewards.Find("xmas")!.Start);
        Assert.Equal(Utc(2026, 12, 25, 0), rewards.Find("xmas")!.End);
        Assert.Null(rewards.Find("nothing"));
        Assert.Equal(NudgeChoice.Closest, rewards.Nudge.Choice);
    }

    [Fact]
    public void Stock_is_a_budget_of_the_program_and_unlimited_rewards_have_none()
    {
        var program = Program(Catalogue);

        Assert.Equal(10, program.BudgetTotal("reward:tablet"));
        Assert.Null(program.BudgetTotal("reward:mug"));
        Assert.Null(program.BudgetTotal("reward:unknown"));
    }

    [Theory]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 1 }, { "id": "a", "name": "B", "cost": 2 } ]""", "rewards[1].id: duplicate reward id 'a'")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 0 } ]""", "rewards[0].cost: a whole number, at least 1")]
    [InlineData("""[ { "id": "a", "cost": 5 } ]""", "rewards[0].name: required")]
    [InlineData("""[ { "id": "a", "name": "A" } ]""", "rewards[0].cost: required")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 5, "stock": -1 } ]""", "rewards[0].stock: a whole number, at least 0")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 5, "perMemberLimit": 0 } ]""", "rewards[0].perMemberLimit: a whole number, at least 1")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 5, "tiers": ["platinum"] } ]""", "rewards[0].tiers: unknown tier 'platinum'")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 5, "window": { "start": "2026-02-01", "end": "2026-01-01" } } ]""", "rewards[0].window.end: before start")]
    [InlineData("""[ { "id": "a b", "name": "A", "cost": 5 } ]""", "rewards[0].id: 1-64 characters of letters, digits, '.', '_', ':' or '-'")]
    [InlineData("""[ { "id": "a", "name": "A", "cost": 5, "price": 3 } ]""", "rewards[0].price: unknown field")]
    [InlineData("""{ "id": "a" }""", "rewards: an array")]
    public void A_bad_reward_is_reported_with_its_path(string rewards, string error)
    {
        Assert.Contains(error, Errors(Json($""" "rewards": {rewards} """)));
    }

    [Theory]
    [InlineData("""{ "choose": "random" }""", "nudge.choose: one of closest, first, none")]
    [InlineData("""{ "maxPointsNeeded": 0 }""", "nudge.maxPointsNeeded: a whole number, at least 1")]
    [InlineData("""{ "top": 1 }""", "nudge.top: unknown field")]
    public void A_bad_nudge_is_reported_with_its_path(string nudge, string error)
    {
        Assert.Contains(error, Errors(Json($""" "nudge": {nudge} """)));
    }

    [Fact]
    public void A_campaign_id_may_not_take_the_reward_stock_prefix()
    {
        Assert.Contains("campaigns[0].id: 'reward:' starts reward stock ids, not campaign ids",
            Errors(Json(""" "campaigns": [ { "id": "reward:x", "rules": [ { "id": "r", "type": "bonus", "points": 1 } ] } ] """)));
    }

    [Fact]
    public void Each_condition_blocks_a_claim_in_order()
    {
        var rewards = Program(Catalogue).Rewards;
        var rich = Member(50_000);

        Assert.Equal(RewardBlock.None, rewards.Find("mug")!.Check(rich, "member", InJune));
        Assert.Equal(RewardBlock.Window, rewards.Find("xmas")!.Check(rich, "member", InJune));
        Assert.Equal(RewardBlock.None, rewards.Find("xmas")!.Check(rich, "member", InDecember));
        Assert.Equal(RewardBlock.Window, rewards.Find("xmas")!.Check(rich, "member", Utc(2026, 12, 25, 0)));
        Assert.Equal(RewardBlock.Tier, rewards.Find("lounge")!.Check(rich, "silver", InJune));
        Assert.Equal(RewardBlock.None, rewards.Find("lounge")!.Check(rich, "gold", InJune));
        Assert.Equal(RewardBlock.Segment, rewards.Find("vip-gift")!.Check(rich, "member", InJune));
        Assert.Equal(RewardBlock.None, rewards.Find("vip-gift")!.Check(Member(50_000, ["staff"]), "member", InJune));
        Assert.Equal(RewardBlock.None, rewards.Find("tablet")!.Check(rich, "member", InJune));
        Assert.Equal(RewardBlock.Limit, rewards.Find("tablet")!.Check(Member(50_000, null, ("k.rw:tablet", 1)), "member", InJune));
        Assert.Equal(RewardBlock.Points, rewards.Find("mug")!.Check(Member(499), "member", InJune));
        Assert.Equal(RewardBlock.None, rewards.Find("mug")!.Check(Member(500), "member", InJune));
        // Held points are not available.
        Assert.Equal(RewardBlock.Points, rewards.Find("mug")!.Check(Member(600, null, (CounterKeys.HeldPoints, 200)), "member", InJune));
    }

    [Fact]
    public void The_nudge_is_the_allowed_reward_needing_the_fewest_points_more()
    {
        var rewards = Program(Catalogue).Rewards;

        // 450 points: the mug needs 50 more, the Christmas box 350, the tablet 19,550; the lounge and VIP gift are not allowed.
        Assert.Equal(("mug", 50L), Pick(rewards.NudgeFor(Member(450), "member", InDecember)));
        // 600 points affords the mug: next is the Christmas box in December, the tablet in June.
        Assert.Equal(("xmas", 200L), Pick(rewards.NudgeFor(Member(600), "member", InDecember)));
        Assert.Equal(("tablet", 19_400L), Pick(rewards.NudgeFor(Member(600), "member", InJune)));
        // Nothing left to aim for once everything allowed is affordable or claimed.
        Assert.Null(rewards.NudgeFor(Member(25_000, null, ("k.rw:tablet", 1)), "member", InJune));
    }

    [Fact]
    public void The_nudge_can_follow_the_catalogue_order_be_bounded_or_be_off()
    {
        var first = Program(Catalogue + """, "nudge": { "choose": "first" } """).Rewards;
        Assert.Equal(("mug", 450L), Pick(first.NudgeFor(Member(50), "member", InJune)));
        Assert.Equal(("tablet", 19_400L), Pick(first.NudgeFor(Member(600), "member", InJune)));

        var bounded = Program(Catalogue + """, "nudge": { "maxPointsNeeded": 1000 } """).Rewards;
        Assert.Equal(("mug", 450L), Pick(bounded.NudgeFor(Member(50), "member", InJune)));
        Assert.Null(bounded.NudgeFor(Member(600), "member", InJune));

        var none = Program(Catalogue + """, "nudge": { "choose": "none" } """).Rewards;
        Assert.Null(none.NudgeFor(Member(50), "member", InJune));
    }

    [Fact]
    public void On_a_tie_the_earlier_listed_reward_is_the_nudge()
    {
        var rewards = Program(""" "rewards": [ { "id": "a", "name": "A", "cost": 100 }, { "id": "b", "name": "B", "cost": 100 } ] """).Rewards;

        Assert.Equal(("a", 100L), Pick(rewards.NudgeFor(Member(0), "member", InJune)));
    }

    private static (string, long)? Pick((Reward Reward, long PointsNeeded)? nudge) => nudge is { } n ? (n.Reward.Id, n.PointsNeeded) : null;
}
