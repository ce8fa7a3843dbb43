using Grpc.Core;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class RedemptionTests
{
    [Fact]
    public async Task Redeem_spends_points_and_records_a_negative_row()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        var response = await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 40));

        Assert.Equal(40, response.PointsRedeemed);
        Assert.Equal(5, response.Balance);
        Assert.Equal("member", response.Tier);
        Assert.Equal(5, await Ledger.SumPointsAsync(memberId));
    }

    [Fact]
    public async Task Redeeming_more_than_the_balance_fails_and_changes_nothing()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        var error = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => server.Scoring.RedeemAsync(Requests.Redeem(memberId, 46)).ResponseAsync);

        Assert.Contains("balance is 45", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId));
    }

    [Fact]
    public async Task Concurrent_redemptions_never_take_the_balance_below_zero()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("sofa", 1, 10_000))); // 100 points

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            try
            {
                await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 7));
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));

        Assert.Equal(14, outcomes.Count(c => c == StatusCode.OK));
        Assert.All(outcomes, c => Assert.True(c is StatusCode.OK or StatusCode.FailedPrecondition, $"unexpected {c}"));
        Assert.Equal(2, await HotState.BalanceAsync(memberId));
        Assert.Equal(2, await Ledger.SumPointsAsync(memberId));
    }
}
