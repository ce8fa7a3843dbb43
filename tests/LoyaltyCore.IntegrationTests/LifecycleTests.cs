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
                return (RpcException?)null;
            }
            catch (RpcException ex)
            {
                return ex;
            }
        }).ToArray();
        // Stop as soon as the first answer is out, with the rest still in flight.
        await Task.WhenAny(calls);
        await server.StopAsync();
        var outcomes = await Task.WhenAll(calls);
        await server.DisposeAsync();

        Assert.Contains(null, outcomes);
        var unanswered = new List<ScoreRequest>();
        for (var i = 0; i < requests.Length; i++)
        {
            if (outcomes[i] is not { } failure)
            {
                Assert.Equal(1, await Ledger.CountAsync(requests[i].MemberId, requests[i].TransactionId));
                continue;
            }

            // Refused at the door once shutdown began, or cut off by the closing connection before any answer
            // (the client library reports a connection closed with NO_ERROR as Internal). Never a server-side error.
            var refused = failure.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled;
            var cutOff = failure.StatusCode == StatusCode.Internal && failure.Status.DebugException is HttpRequestException or IOException;
            Assert.True(refused || cutOff, $"unexpected {failure.StatusCode}: {failure.Status.Detail}");
            unanswered.Add(requests[i]);
        }

        // A till retries whatever went unanswered: each applies exactly once, and no half-handled call left
        // the hot state ahead of the ledger.
        await using var next = await ServerInstance.StartAsync();
        foreach (var request in unanswered)
        {
            await next.Scoring.ScoreAsync(request);
            Assert.Equal(1, await Ledger.CountAsync(request.MemberId, request.TransactionId));
        }

        foreach (var memberId in memberIds)
        {
            var member = await next.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
            Assert.Equal(member.Balance, await Ledger.SumPointsAsync(memberId));
            Assert.Equal(member.Balance, await HotState.BalanceAsync(memberId));
        }
    }
}
