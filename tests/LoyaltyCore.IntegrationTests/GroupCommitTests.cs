using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Runs alone: it counts the database's commits, which other tests would add to.</summary>
[CollectionDefinition(nameof(GroupCommitTests), DisableParallelization = true)]
public sealed class GroupCommitRunsAlone;

[Collection(nameof(GroupCommitTests))]
public sealed class GroupCommitTests
{
    [Fact]
    public async Task Concurrent_requests_share_commits_and_every_answer_is_durable()
    {
        const int requests = 400;
        var server = await ServerInstance.Shared;
        var memberIds = await Task.WhenAll(Enumerable.Range(0, requests).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        await Task.WhenAll(memberIds.Select(id => server.Members.GetMemberAsync(new GetMemberRequest { MemberId = id }).ResponseAsync));
        var rowsBefore = MetricValue(await server.ScrapeMetricsAsync(), "loyalty_ledger_rows_per_commit_sum");
        var batchesBefore = MetricValue(await server.ScrapeMetricsAsync(), "loyalty_ledger_rows_per_commit_count");
        var applied = await MetricSamples.ScrapeAsync(server);

        var scores = Enumerable.Range(0, requests).Select(i => Requests.Score(memberIds[i])).ToArray();
        await Task.WhenAll(scores.Select(r => server.Scoring.ScoreAsync(r).ResponseAsync));

        var metrics = await server.ScrapeMetricsAsync();
        var rows = MetricValue(metrics, "loyalty_ledger_rows_per_commit_sum") - rowsBefore;
        var batches = MetricValue(metrics, "loyalty_ledger_rows_per_commit_count") - batchesBefore;

        Assert.Equal(requests, rows);
        Assert.True(batches < requests / 4, $"{requests} requests took {batches} ledger commits");
        // Their Redis applies share script calls the same way, and each was applied by exactly one of them.
        var appliedAfter = await MetricSamples.ScrapeAsync(server);
        var calls = appliedAfter.Since(applied, "loyalty_redis_apply_transactions_per_call_count");
        Assert.Equal(requests, appliedAfter.Since(applied, "loyalty_redis_apply_transactions_per_call_sum"));
        Assert.True(calls < requests / 4, $"{requests} requests took {calls} apply script calls");
        foreach (var score in scores)
        {
            Assert.Equal(1, await Ledger.CountAsync(score.MemberId, score.TransactionId));
        }
    }

    internal static double MetricValue(string exposition, string name)
    {
        var line = exposition.Split('\n').Single(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}

[Collection(nameof(GroupCommitTests))]
public sealed class SnapshotTests
{
    private const string Conflicts = "loyalty_hot_state_conflicts_total";
    private const string ApplyCalls = "loyalty_redis_script_duration_seconds_count{script=\"apply\"}";

    [Fact]
    public async Task A_warm_member_is_scored_with_one_script_call_and_no_conflict()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));
        var before = await MetricSamples.ScrapeAsync(server);

        for (var i = 0; i < 20; i++)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId));
        }

        // Each call's snapshot is the state its predecessor left: no version mismatch, one Redis round trip.
        var after = await MetricSamples.ScrapeAsync(server);
        Assert.Equal(0, after.Since(before, Conflicts));
        Assert.Equal(20, after.Since(before, ApplyCalls));
    }

    [Fact]
    public async Task A_member_loaded_from_the_ledger_is_scored_with_one_script_call()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var before = await MetricSamples.ScrapeAsync(server);

        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        // The load left its snapshot behind: the first purchase is not refused as stale and sent again.
        var after = await MetricSamples.ScrapeAsync(server);
        Assert.Equal(1, after.Since(before, ApplyCalls));
        Assert.Equal(0, after.Since(before, Conflicts));
    }

    [Fact]
    public async Task A_member_whose_state_redis_lost_is_loaded_and_scored_on_the_loaded_snapshot()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));
        await HotState.Database.KeyDeleteAsync($"lc:{{m:{memberId}}}:s");
        var before = await MetricSamples.ScrapeAsync(server);

        var response = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        // One call finds the state missing; one asks for the ledger check every call makes after a reload (records of
        // earlier attempts may have gone with the state); the third applies on the snapshot the load left, with no
        // call spent learning the state's version.
        var after = await MetricSamples.ScrapeAsync(server);
        Assert.Equal(3, after.Since(before, ApplyCalls));
        Assert.Equal(0, after.Since(before, Conflicts));
        Assert.Equal(90, response.Balance);
    }

    [Fact]
    public async Task A_script_error_on_one_member_fails_only_that_members_call_and_its_batchmates_apply_once()
    {
        // One call in flight at a time: everything that arrives meanwhile shares the next call.
        await using var server = await ServerInstance.StartAsync(s => s["HotState:MaxConcurrentApplies"] = "1");
        var members = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        await Task.WhenAll(members.Select(m => server.Scoring.ScoreAsync(Requests.Score(m)).ResponseAsync));
        // A state the script cannot read (a string where the hash should be): the apply fails inside the script.
        // The last to be sent: by then every call slot is busy, so it waits in a batch with others.
        var broken = members[^1];
        await HotState.Database.StringSetAsync($"lc:{{m:{broken}}}:s", "not-a-hash");

        // Every call waits at the pipeline's door until all have arrived, then all go on at once, on one thread:
        // the first apply is sent, and every later one queues into the next script call while it is in flight.
        var gate = new TaskCompletionSource();
        var arrived = 0;
        server.Get<Server.Transactions.PipelineProbes>().BeforeApply = (_, _) =>
        {
            if (Interlocked.Increment(ref arrived) == members.Length)
            {
                gate.TrySetResult();
            }

            return gate.Task;
        };
        var before = await MetricSamples.ScrapeAsync(server);
        var calls = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return (m, (await server.Scoring.ScoreAsync(Requests.Score(m))).Balance, (StatusCode?)null);
            }
            catch (RpcException ex)
            {
                return (m, 0L, ex.StatusCode);
            }
        }));
        var after = await MetricSamples.ScrapeAsync(server);

        // Calls carried several transactions (the broken one's among them: without the per-transaction resend its
        // batchmates would fail with it).
        Assert.True(after.Since(before, "loyalty_redis_apply_transactions_per_call_bucket{le=\"1\"}") < after.Since(before, "loyalty_redis_apply_transactions_per_call_count"), "no batch formed");
        Assert.Equal(StatusCode.Unavailable, Assert.Single(calls, c => c.Item3 is not null).Item3);
        Assert.Equal(broken, Assert.Single(calls, c => c.Item3 is not null).m);
        // Nothing was written for it, and it keeps failing rather than being applied on a state nobody can read.
        Assert.Equal("not-a-hash", (string?)await HotState.Database.StringGetAsync($"lc:{{m:{broken}}}:s"));
        await RpcAssert.FailsWith(StatusCode.Unavailable, () => server.Scoring.ScoreAsync(Requests.Score(broken)).ResponseAsync);
        Assert.Equal(1, await Ledger.CountAsync(broken));
        foreach (var (memberId, balance, _) in calls.Where(c => c.Item3 is null))
        {
            Assert.Equal(90, balance);
            Assert.Equal(2, await Ledger.CountAsync(memberId));
            Assert.Equal(90, await HotState.BalanceAsync(memberId));
        }
    }

    [Fact]
    public async Task A_state_changed_behind_the_snapshot_is_detected_as_a_conflict_and_evaluated_again()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));
        // Another server's write, as far as this one can tell: the version and balance moved under its snapshot.
        await HotState.Database.HashIncrementAsync($"lc:{{m:{memberId}}}:s", "v", 1);
        await HotState.Database.HashIncrementAsync($"lc:{{m:{memberId}}}:s", "b", 1_000);
        var before = await MetricSamples.ScrapeAsync(server);

        var response = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        var after = await MetricSamples.ScrapeAsync(server);
        Assert.Equal(1, after.Since(before, Conflicts));
        Assert.Equal(2, after.Since(before, ApplyCalls));
        // Evaluated again on the state it found, not the stale snapshot.
        Assert.Equal(45 + 1_000 + 45, response.Balance);
    }
}
