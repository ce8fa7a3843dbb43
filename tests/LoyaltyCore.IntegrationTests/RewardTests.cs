using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The rewards catalogue: claims, stock, limits, the nudge and ListRewards, through the real API.</summary>
public sealed class RewardTests : IAsyncLifetime
{
    // Stock lives in the shared Redis under the reward's id: each test's catalogue has ids of its own.
    private readonly string _tablet = "tablet-" + Guid.NewGuid().ToString("N")[..8];
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "rewards": [
              { "id": "mug", "name": "Mug", "cost": 40 },
              { "id": "TABLET", "name": "Tablet", "cost": 100, "stock": 5, "perMemberLimit": 1 },
              { "id": "lounge", "name": "Lounge pass", "cost": 10, "tiers": ["gold"] },
              { "id": "vip-gift", "name": "VIP gift", "cost": 10, "segments": ["vip"] },
              { "id": "past", "name": "Last year's calendar", "cost": 10, "window": { "start": "2020-01-01", "end": "2021-01-01" } }
            ]
            """.Replace("TABLET", _tablet, StringComparison.Ordinal)));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static RedeemRewardRequest Claim(string memberId, string rewardId, string? transactionId = null) => new()
    {
        TransactionId = transactionId ?? Ids.Transaction(),
        MemberId = memberId,
        RewardId = rewardId,
        StoreId = "store-042",
        Channel = Channel.Store,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    private async Task<string> MemberWithAsync(long spendMinor)
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, spendMinor)));
        return memberId;
    }

    [Fact]
    public async Task A_claim_spends_the_cost_draws_a_unit_counts_the_claim_and_a_retry_replays_it()
    {
        var memberId = await MemberWithAsync(25_000);
        var metricsBefore = await MetricSamples.ScrapeAsync(_server);
        var request = Claim(memberId, _tablet);

        var claimed = await _server.Scoring.RedeemRewardAsync(request);
        // The member reached the limit of one: a retry still gets the original answer, never an error.
        var retried = await _server.Scoring.RedeemRewardAsync(request);

        Assert.Equal((_tablet, 100L, 150L, 1L, false), (claimed.RewardId, claimed.PointsSpent, claimed.Balance, claimed.Claims, claimed.Replayed));
        Assert.True(retried.Replayed);
        Assert.Equal(claimed.Balance, retried.Balance);
        Assert.Equal(1, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, "reward:" + _tablet));
        var row = Assert.Single((await _server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Reward } })).Transactions);
        Assert.Equal((-100L, _tablet, "reward"), (row.Points, row.RefersTo, string.Join(',', row.RuleIds)));
        var metrics = await MetricSamples.ScrapeAsync(_server);
        Assert.Equal(1, metrics.Since(metricsBefore, $"loyalty_rewards_claimed_total{{reward=\"{_tablet}\"}}"));
        Assert.Equal(4, metrics[$"loyalty_reward_stock_remaining{{reward=\"{_tablet}\"}}"]);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task Stock_hammered_by_concurrent_claims_is_never_oversold()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => MemberWithAsync(20_000)));

        var outcomes = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                await _server.Scoring.RedeemRewardAsync(Claim(m, _tablet));
                return "claimed";
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && ex.Status.Detail.Contains("out of stock", StringComparison.Ordinal))
            {
                return "out of stock";
            }
        }));

        Assert.Equal(5, outcomes.Count(o => o == "claimed"));
        Assert.Equal(11, outcomes.Count(o => o == "out of stock"));
        Assert.Equal(5, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, "reward:" + _tablet));
        var status = (await _server.Members.ListRewardsAsync(new ListRewardsRequest { MemberId = members[0] })).Rewards.Single(r => r.RewardId == _tablet);
        Assert.Equal(0, status.StockRemaining);
        // Nobody refused was charged.
        foreach (var memberId in members)
        {
            var balance = (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance;
            Assert.True(balance is 200 or 100, $"{memberId}: {balance}");
            await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
        }
    }

    [Theory]
    [InlineData("lounge", "the member's tier is not one it allows")]
    [InlineData("vip-gift", "the member holds none of the segments it allows")]
    [InlineData("past", "outside its window")]
    public async Task A_reward_the_member_may_not_claim_is_refused_and_changes_nothing(string rewardId, string why)
    {
        var memberId = await MemberWithAsync(10_000);
        var before = await HotState.StateAsync(memberId);

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemRewardAsync(Claim(memberId, rewardId)).ResponseAsync);

        Assert.Equal($"Reward '{rewardId}' cannot be claimed: {why}.", refused.Status.Detail);
        Assert.Equal(before, await HotState.StateAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task The_per_member_limit_points_and_unknown_rewards_are_refused()
    {
        var memberId = await MemberWithAsync(25_000);
        await _server.Scoring.RedeemRewardAsync(Claim(memberId, _tablet));

        var limit = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemRewardAsync(Claim(memberId, _tablet)).ResponseAsync);
        var poor = await MemberWithAsync(3_000);
        var points = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemRewardAsync(Claim(poor, "mug")).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.RedeemRewardAsync(Claim(memberId, "yacht")).ResponseAsync);
        await RpcAssert.RejectsField("reward_id", () => _server.Scoring.RedeemRewardAsync(Claim(memberId, "")).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Scoring.RedeemRewardAsync(Claim(Ids.Member(), "mug")).ResponseAsync);

        Assert.Contains("per-member limit", limit.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("balance is 30, 40 requested", points.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(1, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, "reward:" + _tablet));
        Assert.Equal(30, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = poor })).Balance);
    }

    [Fact]
    public async Task ListRewards_shows_what_the_member_can_claim_now_and_how_far_the_rest_is()
    {
        var memberId = await MemberWithAsync(6_000);

        var listed = await _server.Members.ListRewardsAsync(new ListRewardsRequest { MemberId = memberId });

        Assert.Equal(60, listed.AvailablePoints);
        Assert.Equal(
            [
                ("mug", true, RewardBlock.None, 0L),
                (_tablet, false, RewardBlock.Points, 40L),
                ("lounge", false, RewardBlock.Tier, 0L),
                ("vip-gift", false, RewardBlock.Segment, 0L),
                ("past", false, RewardBlock.Window, 0L),
            ],
            listed.Rewards.Select(r => (r.RewardId, r.Claimable, r.Block, r.PointsNeeded)));
        var tablet = listed.Rewards[1];
        Assert.Equal((5L, 0L, 1L), (tablet.StockRemaining, tablet.Claims, tablet.PerMemberLimit));
        Assert.False(listed.Rewards[0].HasStockRemaining);
        Assert.False(listed.Rewards[0].HasPerMemberLimit);
        Assert.Equal((_tablet, 40L), (listed.Nudge.RewardId, listed.Nudge.PointsNeeded));
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Members.ListRewardsAsync(new ListRewardsRequest { MemberId = Ids.Member() }).ResponseAsync);
    }

    [Fact]
    public async Task Score_and_getmember_carry_the_nudge_to_the_nearest_reward_not_yet_affordable()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var first = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("a", 1, 3_000)));
        var second = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("b", 1, 3_000)));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        // 30 points: the mug (40) is 10 away. 60 points: the mug is affordable, the tablet (100) 40 away.
        Assert.Equal(("mug", "Mug", 40L, 10L), (first.Nudge.RewardId, first.Nudge.Name, first.Nudge.Cost, first.Nudge.PointsNeeded));
        Assert.Equal((_tablet, 40L), (second.Nudge.RewardId, second.Nudge.PointsNeeded));
        Assert.Equal(second.Nudge, member.Nudge);
    }
}
