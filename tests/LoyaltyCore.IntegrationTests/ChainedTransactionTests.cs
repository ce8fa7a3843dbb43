using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// A member's next transaction is evaluated on the predicted result of the one before and sent right behind it,
/// without waiting for its reply. Counts script calls, so it runs alone.
/// </summary>
[Collection(nameof(GroupCommitTests))]
public sealed class ChainedTransactionTests
{
    private const string Conflicts = "loyalty_hot_state_conflicts_total";
    private const string ApplyCalls = "loyalty_redis_script_duration_seconds_count{script=\"apply\"}";
    private const int Purchases = 20;

    // 5 points each, few enough over a test to stay in the entry tier (whose multiplier is 1).
    private const long Earned = 5;

    [Fact]
    public async Task A_busy_members_purchases_share_script_calls_instead_of_waiting_for_each_others_reply()
    {
        // One call in flight: what arrives meanwhile shares the next one, unless it waits for a reply first.
        await using var server = await ServerInstance.StartAsync(s => s["HotState:MaxConcurrentApplies"] = "1");
        var memberId = await WarmMemberAsync(server);
        var before = await MetricSamples.ScrapeAsync(server);

        var answers = await ReleasedTogetherAsync(server, Enumerable.Range(0, Purchases).Select(_ => Purchase(memberId)).ToList());

        var after = await MetricSamples.ScrapeAsync(server);
        // Waiting for each reply under the member's lock took one call per purchase. Chained, they share calls: how
        // many depends on how fast the machine evaluates them against a round trip, so the bound leaves room for a
        // loaded machine (5 calls on a quiet one).
        Assert.True(after.Since(before, ApplyCalls) <= Purchases / 2, $"{Purchases} purchases of one member took {after.Since(before, ApplyCalls)} script calls");
        Assert.Equal(0, after.Since(before, Conflicts));
        // Each was applied on the state its predecessor left: the balances they answered are every step of the way.
        Assert.Equal(Enumerable.Range(1, Purchases).Select(n => 45 + (Earned * n)), answers.Select(a => a.Balance).Order());
        // Evaluated microseconds apart (often within one millisecond), they are numbered in the order they were
        // applied, which is the order a rebuild replays them in.
        var rows = await Ledger.ReplayOrderAsync(memberId);
        Assert.Equal(Enumerable.Range(1, Purchases + 1).Select(n => (long)n), rows.Select(r => r.Sequence));
        Assert.Equal(Enumerable.Range(0, Purchases + 1).Select(n => 45 + (Earned * n)), rows.Select(r => r.BalanceAfter));
        await AssertRedisIsTheLedgerAsync(server, memberId, 45 + (Earned * Purchases));
    }

    [Fact]
    public async Task Chained_purchases_behind_a_retry_are_evaluated_again_on_the_true_state_and_applied_once()
    {
        await using var server = await ServerInstance.StartAsync(s => s["HotState:MaxConcurrentApplies"] = "1");
        var memberId = await WarmMemberAsync(server);
        var before = await MetricSamples.ScrapeAsync(server);
        long expected = 45;
        for (var round = 0; round < 5; round++)
        {
            // A retry is predicted to earn like a new purchase, but the script replays it: what was chained behind it
            // was evaluated on a balance that never existed.
            var original = Purchase(memberId);
            var first = await server.Scoring.ScoreAsync(original);
            expected += Earned;
            var calls = Enumerable.Range(0, 10).Select(_ => Purchase(memberId)).Prepend(original).ToList();

            var answers = await ReleasedTogetherAsync(server, calls);

            Assert.True(answers[0].Replayed);
            Assert.Equal(first.Balance, answers[0].Balance);
            Assert.All(answers.Skip(1), a => Assert.False(a.Replayed));
            expected += Earned * 10;
            Assert.Equal(expected, answers.Skip(1).Max(a => a.Balance));
            foreach (var call in calls)
            {
                Assert.Equal(1, await Ledger.CountAsync(memberId, call.TransactionId));
            }
        }

        // The retry was not always last in its chain: the purchases sent on its prediction were refused and sent again.
        var after = await MetricSamples.ScrapeAsync(server);
        Assert.True(after.Since(before, Conflicts) > 0, "no purchase was ever chained behind a retry");
        await AssertRedisIsTheLedgerAsync(server, memberId, expected);
    }

    [Fact]
    public async Task Chained_purchases_behind_a_change_by_another_server_are_evaluated_again_on_its_result()
    {
        await using var server = await ServerInstance.StartAsync(s => s["HotState:MaxConcurrentApplies"] = "1");
        var memberId = await WarmMemberAsync(server);
        // Another server's write, as far as this one can tell: the version and balance moved under its prediction.
        await HotState.Database.HashSetAsync($"lc:{{m:{memberId}}}:s", "v", "elsewhere");
        await HotState.Database.HashIncrementAsync($"lc:{{m:{memberId}}}:s", "b", 1_000);
        var before = await MetricSamples.ScrapeAsync(server);

        var answers = await ReleasedTogetherAsync(server, Enumerable.Range(0, Purchases).Select(_ => Purchase(memberId)).ToList());

        var after = await MetricSamples.ScrapeAsync(server);
        Assert.True(after.Since(before, Conflicts) > 0);
        Assert.Equal(Enumerable.Range(1, Purchases).Select(n => 1_045 + (Earned * n)), answers.Select(a => a.Balance).Order());
        Assert.Equal(1_045 + (Earned * Purchases), await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Redemptions_the_balance_covers_are_chained_and_one_beyond_it_is_refused_on_the_balance_it_met()
    {
        await using var server = await ServerInstance.StartAsync(s => s["HotState:MaxConcurrentApplies"] = "1");
        var memberId = await WarmMemberAsync(server);
        var balance = 45 + (Earned * Purchases);
        await ReleasedTogetherAsync(server, Enumerable.Range(0, Purchases).Select(_ => Purchase(memberId)).ToList());
        var before = await MetricSamples.ScrapeAsync(server);

        var redemptions = await ReleasedTogetherAsync(server, Enumerable.Range(0, 10).Select(_ => Requests.Redeem(memberId, 10)).ToList(),
            (client, r) => client.RedeemAsync(r).ResponseAsync);

        var after = await MetricSamples.ScrapeAsync(server);
        // One call each unchained; shared, at most 5 on a quiet machine (the bound leaves room for a loaded one).
        Assert.True(after.Since(before, ApplyCalls) <= 6, $"10 redemptions of one member took {after.Since(before, ApplyCalls)} script calls");
        Assert.Equal(Enumerable.Range(1, 10).Select(n => balance - (10L * n)).Order(), redemptions.Select(r => r.Balance).Order());
        balance -= 100;

        // Whichever comes second is evaluated on what the first will leave, which cannot cover it: it waits for the
        // script's word, and the script refuses it on the balance the first left.
        var outcomes = await ReleasedTogetherAsync(server, [Requests.Redeem(memberId, balance), Requests.Redeem(memberId, 1)],
            async (client, r) =>
            {
                try
                {
                    return (await client.RedeemAsync(r)).Balance;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
                {
                    return -1;
                }
            });

        Assert.Single(outcomes, o => o < 0);
        var left = Assert.Single(outcomes, o => o >= 0);
        // Either the whole balance went first (0 left, the 1 refused) or the 1 did (the whole balance then refused).
        Assert.True(left == 0 || left == balance - 1, $"the redemption that went through left {left} of {balance}");
        await AssertRedisIsTheLedgerAsync(server, memberId, left);
    }

    private static ScoreRequest Purchase(string memberId) => Requests.Score(memberId, lines: Requests.Line("sku-1", 1, 500));

    private static async Task<string> WarmMemberAsync(ServerInstance server)
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        Assert.Equal(45, (await server.Scoring.ScoreAsync(Requests.Score(memberId))).Balance);
        return memberId;
    }

    private static Task<ScoreResponse[]> ReleasedTogetherAsync(ServerInstance server, List<ScoreRequest> requests) =>
        ReleasedTogetherAsync(server, requests, (client, r) => client.ScoreAsync(r).ResponseAsync);

    /// <summary>Every call waits at the pipeline's door until all have arrived, then all go on at once.</summary>
    private static async Task<TResult[]> ReleasedTogetherAsync<TRequest, TResult>(
        ServerInstance server, List<TRequest> requests, Func<ScoringService.ScoringServiceClient, TRequest, Task<TResult>> call)
    {
        var gate = new TaskCompletionSource();
        var arrived = 0;
        var probes = server.Get<PipelineProbes>();
        probes.BeforeApply = (_, _) =>
        {
            if (Interlocked.Increment(ref arrived) == requests.Count)
            {
                gate.TrySetResult();
            }

            return gate.Task;
        };
        try
        {
            return await Task.WhenAll(requests.Select(r => call(server.Scoring, r)));
        }
        finally
        {
            probes.BeforeApply = null;
        }
    }

    /// <summary>Redis holds what a rebuild from the ledger computes, and the ledger adds up to the expected balance.</summary>
    private static async Task AssertRedisIsTheLedgerAsync(ServerInstance server, string memberId, long balance)
    {
        Assert.Equal(balance, await Ledger.SumPointsAsync(memberId));
        var live = await HotState.StateAsync(memberId);
        Assert.True(await server.Get<MemberDirectory>().RebuildAsync(memberId, server.Get<ProgramProvider>().Current, CancellationToken.None));
        Assert.Equal(live, await HotState.StateAsync(memberId));
        Assert.Equal(balance, await HotState.BalanceAsync(memberId));
        Assert.Equal(balance, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
    }
}
