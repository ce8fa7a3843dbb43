using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

public sealed class ConsistencyTests
{
    [Fact]
    public async Task After_a_mixed_concurrent_run_every_balance_is_what_the_successful_calls_add_up_to_in_redis_and_the_ledger()
    {
        var server = await ServerInstance.Shared;
        var members = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var random = new Random(42);
        var earned = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var spent = new System.Collections.Concurrent.ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        int scoresOk = 0, redemptionsOk = 0, redemptionsRefused = 0, reads = 0;
        var calls = Enumerable.Range(0, 400).Select(async i =>
        {
            var memberId = members[random.Next(members.Length)];
            switch (random.Next(10))
            {
                case < 6:
                    var score = await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("x", 1 + (i % 4), 1_000 + i)));
                    earned.AddOrUpdate(memberId, score.PointsEarned, (_, total) => total + score.PointsEarned);
                    Interlocked.Increment(ref scoresOk);
                    break;
                case < 9:
                    var points = 1 + (i % 30);
                    try
                    {
                        var redeem = await server.Scoring.RedeemAsync(Requests.Redeem(memberId, points));
                        Assert.Equal(points, redeem.PointsRedeemed);
                        Assert.True(redeem.Balance >= 0);
                        spent.AddOrUpdate(memberId, points, (_, total) => total + points);
                        Interlocked.Increment(ref redemptionsOk);
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
                    {
                        // Beyond the balance at that moment: refused, and nothing changed.
                        Interlocked.Increment(ref redemptionsRefused);
                    }

                    break;
                default:
                    Assert.True((await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance >= 0);
                    Interlocked.Increment(ref reads);
                    break;
            }
        });
        await Task.WhenAll(calls);

        // Every call was answered (a failure other than a refused redemption fails the test above), and both kinds
        // really ran: a run where nothing succeeded proves nothing.
        Assert.Equal(400, scoresOk + redemptionsOk + redemptionsRefused + reads);
        Assert.True(scoresOk > 200, $"{scoresOk} scores");
        Assert.True(redemptionsOk > 50, $"{redemptionsOk} redemptions");
        foreach (var memberId in members)
        {
            var expected = earned.GetValueOrDefault(memberId) - spent.GetValueOrDefault(memberId);
            Assert.True(expected >= 0);
            Assert.Equal(expected, await HotState.BalanceAsync(memberId));
            Assert.Equal(expected, await Ledger.SumPointsAsync(memberId));
            Assert.Equal(expected, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        }
    }

    [Fact]
    public async Task Scripts_redis_forgot_are_loaded_again_and_the_call_applies_once()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        // As after a Redis restart without persistence of scripts: the next apply finds no script by its hash.
        await HotState.Database.ExecuteAsync("SCRIPT", "FLUSH");
        var response = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(90, response.Balance);
        Assert.Equal(2, await Ledger.CountAsync(memberId));
        Assert.Equal(90, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Rebuild_recomputes_redis_from_the_ledger()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 60_000)));
        await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 100));
        await HotState.SetBalanceAsync(memberId, 999_999);

        Assert.True(await server.Get<MemberDirectory>().RebuildAsync(memberId, server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None));

        var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        Assert.Equal(500, member.Balance);
        Assert.Equal(60_000, member.LifetimeSpendMinor);
        Assert.Equal("silver", member.Tier);
        // The rebuilt state takes writes like any other.
        Assert.Equal(625, (await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("cable", 1, 10_000)))).Balance);
    }

    [Fact]
    public async Task The_rebuild_command_path_recomputes_every_member_from_the_ledger()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var members = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        foreach (var memberId in members)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId));
            await HotState.SetBalanceAsync(memberId, 123_456);
        }

        var rebuilt = await server.Get<MemberDirectory>().RebuildAllAsync(server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None);

        Assert.Equal(members.Length, rebuilt);
        foreach (var memberId in members)
        {
            Assert.Equal(45, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        }
    }

    [Fact]
    public async Task When_the_ledger_is_down_the_call_fails_unavailable_and_the_applied_change_is_committed_later()
    {
        var healthy = await ServerInstance.Shared;
        var retried = await IdempotencyTests.EnrolledMemberAsync(healthy);
        var recovered = await IdempotencyTests.EnrolledMemberAsync(healthy);
        await using var ledgerDown = await ServerInstance.StartAsync(settings =>
        {
            settings["Ledger:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=loyalty;Timeout=2";
            settings["Ledger:MigrateOnStart"] = "false";
        });
        await healthy.Members.GetMemberAsync(new GetMemberRequest { MemberId = retried });
        await healthy.Members.GetMemberAsync(new GetMemberRequest { MemberId = recovered });

        var retriedRequest = Requests.Score(retried);
        await RpcAssert.FailsWith(StatusCode.Unavailable, () => ledgerDown.Scoring.ScoreAsync(retriedRequest).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.Unavailable, () => ledgerDown.Scoring.ScoreAsync(Requests.Score(recovered)).ResponseAsync);
        Assert.Equal(0, await Ledger.CountAsync(retried));
        Assert.Equal(0, await Ledger.CountAsync(recovered));

        // The client retries against a server whose ledger is up: the pending entry is committed, then answered.
        var retry = await healthy.Scoring.ScoreAsync(retriedRequest);
        Assert.True(retry.Replayed);
        Assert.Equal(1, await Ledger.CountAsync(retried, retriedRequest.TransactionId));

        // Nobody retries: recovery commits it.
        await healthy.Get<PendingRecoveryService>().RecoverAllAsync(TimeSpan.Zero, CancellationToken.None);
        Assert.Equal(1, await Ledger.CountAsync(recovered));
        Assert.Equal(await HotState.BalanceAsync(recovered), await Ledger.SumPointsAsync(recovered));
    }
}
