using Google.Rpc;
using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class StreamTests
{
    [Fact]
    public async Task A_stream_answers_every_transaction_in_order_with_the_semantics_of_score()
    {
        var server = await ServerInstance.Shared;
        var members = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var requests = Enumerable.Range(0, 200).Select(i => Requests.Score(members[i % members.Length])).ToList();
        var bad = requests[17].Clone();
        bad.Currency = "USD";
        requests[17] = bad;
        requests[42] = requests[3].Clone(); // a retry of an earlier transaction in the same stream
        requests[99] = Requests.Score(Ids.Member()); // not enrolled

        var answers = await StreamAsync(server, requests);

        Assert.Equal(requests.Select(r => r.TransactionId), answers.Select(a => a.TransactionId));
        Assert.Equal((int)Code.InvalidArgument, answers[17].Error.Code);
        Assert.Contains(answers[17].Error.Details, d => d.Is(BadRequest.Descriptor));
        Assert.Equal((int)Code.NotFound, answers[99].Error.Code);
        Assert.True(answers[42].Response.Replayed);
        Assert.Equal(answers[3].Response.PointsEarned, answers[42].Response.PointsEarned);
        Assert.Equal(197, answers.Count(a => a.ResultCase == ScoreStreamResponse.ResultOneofCase.Response && !a.Response.Replayed));
        foreach (var memberId in members)
        {
            Assert.Equal(await Ledger.SumPointsAsync(memberId), await HotState.BalanceAsync(memberId));
        }
    }

    [Fact]
    public async Task The_echo_baseline_exists_only_when_enabled()
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(ServerInstance.PosKey);
        await RpcAssert.FailsWith(StatusCode.Unimplemented, () => new EchoService.EchoServiceClient(channel).EchoAsync(Requests.Score("m")).ResponseAsync);

        await using var bench = await ServerInstance.StartAsync(s => s["Benchmark:EnableEcho"] = "true");
        using var benchChannel = bench.CreateChannel(ServerInstance.PosKey);
        var echoed = await new EchoService.EchoServiceClient(benchChannel).EchoAsync(Requests.Score("m", "t-echo"));
        Assert.Equal("t-echo", echoed.TransactionId);
    }

    /// <summary>Sends every request on one ScoreStream while reading the answers, then all the answers.</summary>
    internal static async Task<List<ScoreStreamResponse>> StreamAsync(ServerInstance server, IReadOnlyList<ScoreRequest> requests)
    {
        using var call = server.Scoring.ScoreStream();
        var reading = Task.Run(async () =>
        {
            var answers = new List<ScoreStreamResponse>();
            await foreach (var answer in call.ResponseStream.ReadAllAsync())
            {
                answers.Add(answer);
            }

            return answers;
        });
        foreach (var request in requests)
        {
            await call.RequestStream.WriteAsync(request);
        }

        await call.RequestStream.CompleteAsync();
        return await reading;
    }
}

/// <summary>Runs alone: it saturates the server on purpose and measures memory.</summary>
[Collection(nameof(GroupCommitTests))]
public sealed class OverloadTests
{
    [Fact]
    public async Task Past_saturation_the_server_refuses_calls_quickly_keeps_memory_bounded_and_every_accepted_one_is_durable()
    {
        await using var server = await ServerInstance.StartAsync(s => s["Scoring:MaxInFlight"] = "32");
        var members = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        GC.Collect();
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);

        var requests = Enumerable.Range(0, 3000).Select(i => Requests.Score(members[i % members.Length])).ToArray();
        var outcomes = await Task.WhenAll(requests.Select(async r =>
        {
            try
            {
                await server.Scoring.ScoreAsync(r, deadline: DateTime.UtcNow.AddSeconds(30));
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));
        var memoryAfter = GC.GetTotalMemory(forceFullCollection: true);

        Assert.Contains(StatusCode.ResourceExhausted, outcomes);
        Assert.Contains(StatusCode.OK, outcomes);
        Assert.All(outcomes, c => Assert.True(c is StatusCode.OK or StatusCode.ResourceExhausted, $"unexpected {c}"));
        Assert.True(memoryAfter - memoryBefore < 64 * 1024 * 1024, $"managed heap grew by {(memoryAfter - memoryBefore) / 1024 / 1024} MiB");
        for (var i = 0; i < requests.Length; i++)
        {
            Assert.Equal(outcomes[i] == StatusCode.OK ? 1 : 0, await Ledger.CountAsync(requests[i].MemberId, requests[i].TransactionId));
        }

        foreach (var memberId in members)
        {
            Assert.Equal(await Ledger.SumPointsAsync(memberId), await HotState.BalanceAsync(memberId));
        }
    }
}
