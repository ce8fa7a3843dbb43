using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task An_expired_deadline_changes_nothing_and_a_retry_applies_exactly_once()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);

        await RpcAssert.FailsWith(StatusCode.DeadlineExceeded, () => server.Scoring.ScoreAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(-1)).ResponseAsync);
        Assert.Equal(0, await Ledger.CountAsync(memberId));

        // A deadline that may expire anywhere along the way: whatever happened, the retry settles it once.
        for (var i = 0; i < 20; i++)
        {
            var racing = Requests.Score(memberId);
            try
            {
                await server.Scoring.ScoreAsync(racing, deadline: DateTime.UtcNow.AddMilliseconds(i % 5));
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Cancelled)
            {
            }

            await server.Scoring.ScoreAsync(racing);
            Assert.Equal(1, await Ledger.CountAsync(memberId, racing.TransactionId));
        }

        var last = await server.Scoring.ScoreAsync(request);
        Assert.Equal(21, await Ledger.CountAsync(memberId));
        Assert.Equal(last.Balance, await HotState.BalanceAsync(memberId));
        Assert.Equal(last.Balance, await Ledger.SumPointsAsync(memberId));
    }

    [Fact]
    public async Task Shutdown_drains_in_flight_requests_and_every_acknowledged_one_is_durable()
    {
        var server = await ServerInstance.StartAsync();
        var memberIds = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var requests = Enumerable.Range(0, 300).Select(i => Requests.Score(memberIds[i % memberIds.Length])).ToArray();

        var calls = requests.Select(async r =>
        {
            try
            {
                await server.Scoring.ScoreAsync(r);
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }).ToArray();
        await Task.Delay(30);
        await server.StopAsync();
        var outcomes = await Task.WhenAll(calls);
        await server.DisposeAsync();

        Assert.Contains(StatusCode.OK, outcomes);
        for (var i = 0; i < requests.Length; i++)
        {
            if (outcomes[i] == StatusCode.OK)
            {
                Assert.Equal(1, await Ledger.CountAsync(requests[i].MemberId, requests[i].TransactionId));
            }
            else
            {
                // Refused at the door once shutdown began, never half-handled.
                Assert.True(outcomes[i] is StatusCode.Unavailable or StatusCode.Cancelled, $"unexpected {outcomes[i]}");
            }
        }
    }
}
