using System.Collections.Concurrent;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task A_deadline_that_expires_inside_the_server_before_the_apply_changes_nothing_and_the_retry_applies_once()
    {
        // The call is held inside the server, before the apply, until the server has seen its deadline pass.
        await using var server = await ServerInstance.StartAsync();
        var (memberId, request, hold) = await ExpireWhileHeldAsync(server, (probes, at) => probes.BeforeApply = at);

        Assert.IsAssignableFrom<OperationCanceledException>(await hold.Outcome);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
        var retry = await server.Scoring.ScoreAsync(request);
        Assert.False(retry.Replayed);
        Assert.Equal(45, retry.PointsEarned);
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));
        Assert.Equal(45, await Ledger.SumPointsAsync(memberId));
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_deadline_that_expires_while_the_commit_is_pending_still_commits_and_the_retry_replays_the_original_answer()
    {
        // Applied in Redis, held before its commit until the server has seen the deadline pass: past the point of
        // change, the transaction is carried through whatever the client does.
        await using var server = await ServerInstance.StartAsync();
        var (memberId, request, hold) = await ExpireWhileHeldAsync(server, (probes, at) => probes.BeforeCommit = at);

        Assert.Null(await hold.Outcome);
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));
        var retry = await server.Scoring.ScoreAsync(request);
        Assert.True(retry.Replayed);
        Assert.Equal(45, retry.PointsEarned);
        Assert.Equal(45, retry.Balance);
        Assert.Equal(1, await Ledger.CountAsync(memberId));
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Shutdown_answers_every_accepted_call_and_retries_settle_the_rest_exactly_once()
    {
        var server = await ServerInstance.StartAsync();
        var accepted = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        server.Get<PipelineProbes>().Accepted = (_, transactionId) => accepted[transactionId] = true;
        var memberIds = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var requests = Enumerable.Range(0, 300).Select(i => Requests.Score(memberIds[i % memberIds.Length])).ToArray();

        var earned = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var calls = requests.Select(async r =>
        {
            try
            {
                var response = await server.Scoring.ScoreAsync(r);
                earned.AddOrUpdate(r.MemberId, response.PointsEarned, (_, total) => total + response.PointsEarned);
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

            // The drain: a call the pipeline accepted before the stop is answered, never dropped.
            Assert.False(accepted.ContainsKey(requests[i].TransactionId), $"accepted {requests[i].TransactionId} answered {failure.StatusCode}: {failure.Status.Detail}");
            // Refused at the door once shutdown began, or cut off by the closing connection before the server
            // started it (the client library reports a connection closed with NO_ERROR as Internal).
            var refused = failure.StatusCode is StatusCode.Unavailable or StatusCode.Cancelled;
            var cutOff = failure.StatusCode == StatusCode.Internal && failure.Status.DebugException is HttpRequestException or IOException;
            Assert.True(refused || cutOff, $"unexpected {failure.StatusCode}: {failure.Status.Detail}");
            Assert.Equal(0, await Ledger.CountAsync(requests[i].MemberId, requests[i].TransactionId));
            unanswered.Add(requests[i]);
        }

        // A till retries whatever went unanswered: each applies exactly once.
        await using var next = await ServerInstance.StartAsync();
        foreach (var request in unanswered)
        {
            var retry = await next.Scoring.ScoreAsync(request);
            Assert.False(retry.Replayed);
            earned.AddOrUpdate(request.MemberId, retry.PointsEarned, (_, total) => total + retry.PointsEarned);
            Assert.Equal(1, await Ledger.CountAsync(request.MemberId, request.TransactionId));
        }

        foreach (var memberId in memberIds)
        {
            var member = await next.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
            Assert.Equal(earned[memberId], member.Balance);
            Assert.Equal(member.Balance, await Ledger.SumPointsAsync(memberId));
            Assert.Equal(member.Balance, await HotState.BalanceAsync(memberId));
        }
    }

    /// <summary>Scores a purchase held at the probe <paramref name="place"/> sets until its deadline passed inside the server.</summary>
    private static async Task<(string MemberId, ScoreRequest Request, Hold Hold)> ExpireWhileHeldAsync(
        ServerInstance server, Action<PipelineProbes, Func<string, CancellationToken, Task>> place)
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);
        var probes = server.Get<PipelineProbes>();
        var hold = new Hold(request.TransactionId);
        place(probes, hold.AtAsync);
        probes.Finished = hold.Finish;

        var call = server.Scoring.ScoreAsync(request, deadline: DateTime.UtcNow.AddMilliseconds(300));
        await hold.Reached;
        await RpcAssert.FailsWith(StatusCode.DeadlineExceeded, () => call.ResponseAsync);
        return (memberId, request, hold);
    }

    /// <summary>
    /// Holds one transaction at a pipeline probe until the server sees its call cancelled (the deadline passed), then
    /// lets it go on, and reports how the pipeline finished it.
    /// </summary>
    private sealed class Hold(string transactionId)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Exception?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public Task<Exception?> Outcome => _outcome.Task.WaitAsync(TimeSpan.FromSeconds(30));

        public async Task AtAsync(string id, CancellationToken callCancelled)
        {
            if (id != transactionId || _reached.Task.IsCompleted)
            {
                return;
            }

            _reached.TrySetResult();
            var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var registration = callCancelled.Register(() => cancelled.TrySetResult());
            await cancelled.Task.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }

        public void Finish(string id, Exception? failure)
        {
            if (id == transactionId)
            {
                _outcome.TrySetResult(failure);
            }
        }
    }
}
