using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;
using StackExchange.Redis;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Two servers sharing a real Redis Cluster (3 masters, a replica each) and one ledger: every guarantee the single
/// node gives holds across shards and servers.
/// </summary>
public sealed class ClusterTests : IAsyncLifetime
{
    private static readonly Lazy<ConnectionMultiplexer> Cluster = new(() => ConnectionMultiplexer.Connect(TestEnvironment.RedisCluster + ",allowAdmin=true"));

    private ServerInstance _a = null!;
    private ServerInstance _b = null!;

    public async Task InitializeAsync()
    {
        _a = await ServerInstance.StartAsync(s => s["HotState:Redis"] = TestEnvironment.RedisCluster, ownLedger: true);
        _b = await ServerInstance.StartAsync(s =>
        {
            s["HotState:Redis"] = TestEnvironment.RedisCluster;
            s["Ledger:ConnectionString"] = _a.LedgerConnectionString;
        });
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    [Fact]
    public async Task Members_on_every_shard_get_each_transaction_once_and_are_never_overdrawn_whichever_server_they_call()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => IdempotencyTests.EnrolledMemberAsync(_a)));
        Assert.Equal(3, members.Select(m => Cluster.Value.GetDatabase().IdentifyEndpoint($"lc:{{m:{m}}}:s")).Distinct().Count());

        var outcomes = await Task.WhenAll(members.Select(async memberId =>
        {
            // The same purchase sent to both servers at once: one applies it, the other answers the replay.
            var purchase = Requests.Score(memberId);
            var both = await Task.WhenAll(_a.Scoring.ScoreAsync(purchase).ResponseAsync, _b.Scoring.ScoreAsync(purchase).ResponseAsync);
            Assert.Equal(1, both.Count(r => !r.Replayed));
            Assert.All(both, r => Assert.Equal(45, r.Balance));

            // Six redemptions of 20 against 45 points, three on each server: two can be paid.
            var redeemed = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
            {
                try
                {
                    await (i % 2 == 0 ? _a : _b).Scoring.RedeemAsync(Requests.Redeem(memberId, 20));
                    return true;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
                {
                    return false;
                }
            }));
            return (memberId, Paid: redeemed.Count(ok => ok));
        }));

        foreach (var (memberId, paid) in outcomes)
        {
            Assert.Equal(2, paid);
            Assert.Equal(1 + paid, await Ledger.CountAsync(memberId, database: _a.LedgerConnectionString));
            Assert.Equal(5, (await _b.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
            await RedisIsTheLedgersReplayAsync(_b, memberId);
        }
    }

    [Fact]
    public async Task A_program_published_on_one_server_reaches_the_other_and_its_budget_is_never_overspent_across_shards()
    {
        var version = Programs.Version();
        await Programs.PublishAsync(_a, Programs.Document(version, """
            "campaigns": [ { "id": "flash", "name": "Flash", "budget": 100, "rules": [ { "id": "flash-bonus", "type": "bonus", "points": 10 } ] } ]
            """));
        for (var attempt = 0; attempt < 100 && _b.Get<ProgramProvider>().Current.Version != version; attempt++)
        {
            await Task.Delay(50);
        }

        Assert.Equal(version, _b.Get<ProgramProvider>().Current.Version);
        var members = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => IdempotencyTests.EnrolledMemberAsync(_a)));
        var answers = await Task.WhenAll(members.Select((m, i) => (i % 2 == 0 ? _a : _b).Scoring.ScoreAsync(Requests.Score(m)).ResponseAsync));

        // 45 base points each, and 10 more for as long as the 100-point budget lasts: ten purchases get it.
        Assert.Equal(10, answers.Count(a => a.PointsEarned == 55));
        Assert.Equal(20, answers.Count(a => a.PointsEarned == 45));
        Assert.Equal(100, await Ledger.CampaignDrawnAsync(_a.LedgerConnectionString, "flash"));
    }

    [Fact]
    public async Task Pending_entries_on_every_shard_are_found_and_committed_by_the_recovery()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => IdempotencyTests.EnrolledMemberAsync(_a)));
        await using (var ledgerDown = await ServerInstance.StartAsync(s =>
        {
            s["HotState:Redis"] = TestEnvironment.RedisCluster;
            s["Ledger:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=loyalty;Timeout=2";
            s["Ledger:MigrateOnStart"] = "false";
        }))
        {
            foreach (var memberId in members)
            {
                await _a.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
                await RpcAssert.FailsWith(StatusCode.Unavailable, () => ledgerDown.Scoring.ScoreAsync(Requests.Score(memberId)).ResponseAsync);
            }
        }

        Assert.Equal(3, members.Select(m => Cluster.Value.GetDatabase().IdentifyEndpoint($"lc:{{m:{m}}}:s")).Distinct().Count());
        Assert.All(await Task.WhenAll(members.Select(m => Ledger.CountAsync(m, database: _a.LedgerConnectionString))), count => Assert.Equal(0, count));

        await _b.Get<PendingRecoveryService>().RecoverAllAsync(TimeSpan.Zero, CancellationToken.None);

        foreach (var memberId in members)
        {
            Assert.Equal(1, await Ledger.CountAsync(memberId, database: _a.LedgerConnectionString));
            await RedisIsTheLedgersReplayAsync(_a, memberId);
        }
    }

    [Fact]
    public async Task Holds_span_servers_and_the_expiry_run_on_both_servers_expires_each_shards_lots_once()
    {
        await Programs.PublishActiveSinceAsync(_a, Programs.Document(Programs.Version(), """ "expiry": { "months": 12 } """), DateTimeOffset.UtcNow.AddDays(-100));
        await _b.Get<ProgramProvider>().RefreshAsync(CancellationToken.None);
        var members = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => IdempotencyTests.EnrolledMemberAsync(_a)));
        var old = DateTimeOffset.UtcNow.AddDays(-60);
        foreach (var memberId in members)
        {
            await _a.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: old));
            await _b.Scoring.ScoreAsync(Requests.Score(memberId));

            // A hold made on one server is captured on the other, and holds what it reserved meanwhile.
            var hold = HoldTests.Authorize(memberId, 50);
            await _a.Scoring.AuthorizeAsync(hold);
            await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _b.Scoring.RedeemAsync(Requests.Redeem(memberId, 41)).ResponseAsync);
            await _b.Scoring.CaptureAsync(HoldTests.Capture(memberId, hold.TransactionId, 30));
        }

        Assert.Equal(3, members.Select(m => Cluster.Value.GetDatabase().IdentifyEndpoint($"lc:{{m:{m}}}:s")).Distinct().Count());
        var oldDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(old, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).DateTime);
        var due = Engine.Points.ExpiryPolicy.DayKey(oldDay.AddMonths(12));

        var runs = await Task.WhenAll(
            _a.Get<PointExpiryRun>().RunAsync(due, null, CancellationToken.None),
            _b.Get<PointExpiryRun>().RunAsync(due, null, CancellationToken.None));

        // Each member: 45 old (30 of them captured from the oldest lot first), 45 new; the old lot's 15 left expire.
        Assert.Equal(members.Length * 15, runs.Sum(r => r.Points));
        foreach (var memberId in members)
        {
            Assert.Equal(45, (await _b.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
            await RedisIsTheLedgersReplayAsync(_a, memberId);
        }
    }

    [Fact]
    public async Task A_master_killed_under_load_with_its_replica_behind_loses_doubles_drifts_and_overdraws_nothing()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => IdempotencyTests.EnrolledMemberAsync(_a)));
        var database = Cluster.Value.GetDatabase();
        var target = database.IdentifyEndpoint($"lc:{{m:{members[0]}}}:s")!;

        // A campaign whose budget lives on the same shard: its draws are lost with the members' changes.
        var campaign = Enumerable.Range(0, 1000).Select(i => $"cap-{i}").First(id => Equals(database.IdentifyEndpoint($"lc:{{c:{id}}}:r"), target));
        var version = Programs.Version();
        await Programs.PublishAsync(_a, Programs.Document(version, $$"""
            "campaigns": [ { "id": "{{campaign}}", "name": "Bonus", "budget": 100000, "rules": [ { "id": "bonus-1", "type": "bonus", "points": 1 } ] } ]
            """));
        for (var attempt = 0; attempt < 100 && _b.Get<ProgramProvider>().Current.Version != version; attempt++)
        {
            await Task.Delay(50);
        }

        await Task.WhenAll(members.Select(m => _a.Scoring.ScoreAsync(Requests.Score(m)).ResponseAsync));
        var onTarget = members.Where(m => Equals(database.IdentifyEndpoint($"lc:{{m:{m}}}:s"), target)).ToList();
        var victims = onTarget.Take(6).ToList();
        var busy = onTarget.Skip(6).ToList();
        var master = Cluster.Value.GetServer(target);
        var masterPid = int.Parse((await master.InfoAsync("server")).SelectMany(g => g).Single(p => p.Key == "process_id").Value, System.Globalization.CultureInfo.InvariantCulture);
        var acknowledged = new System.Collections.Concurrent.ConcurrentBag<(string MemberId, string TransactionId)>();

        // What a replica that missed its master's last writes holds: each victim as it was before its last three
        // changes (taken while nobody calls for them, so each is a consistent prefix, as replication gives). The
        // changes themselves are committed in the ledger and acknowledged.
        var snapshots = await Task.WhenAll(victims.Select(m => MemberKeys.DumpAsync(master, database, m)));
        var budgetKey = (RedisKey)$"lc:{{c:{campaign}}}:r";
        var budgetBefore = await database.StringGetAsync(budgetKey);
        foreach (var victim in victims)
        {
            await AcknowledgedAsync(_a, Requests.Score(victim), acknowledged);
            await AcknowledgedAsync(_b, Requests.Score(victim), acknowledged);
            await AcknowledgedAsync(_a, Requests.Redeem(victim, 20), acknowledged);
        }

        using var load = new CancellationTokenSource(TimeSpan.FromSeconds(8));
        var workers = Enumerable.Range(0, 12).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (!load.IsCancellationRequested)
            {
                // Most traffic on the shard that fails over.
                var memberId = random.Next(3) > 0 && busy.Count > 0 ? busy[random.Next(busy.Count)] : members.Except(victims).ElementAt(random.Next(members.Length - victims.Count));
                var server = random.Next(2) == 0 ? _a : _b;
                await AcknowledgedAsync(server, random.Next(3) == 0 ? Requests.Redeem(memberId, 20) : Requests.Score(memberId), acknowledged);
            }
        })).ToList();

        await Task.Delay(1500);
        // The last writes are lost (the victims' older states restored, and replicated), then the master dies under
        // load and its replica is promoted.
        foreach (var snapshot in snapshots)
        {
            await MemberKeys.RestoreAsync(master, database, snapshot);
        }

        await database.StringSetAsync(budgetKey, budgetBefore);

        System.Diagnostics.Process.GetProcessById(masterPid).Kill();

        // Half the victims call again at once (the ledger's sequence check catches them: repaired and decided anew,
        // or, for a retry of a change it holds, answered from it); the other half never do (the sweep finds them).
        foreach (var victim in victims.Take(3))
        {
            await AcknowledgedAsync(_b, Requests.Redeem(victim, 20), acknowledged);
        }

        await Task.WhenAll(workers);

        foreach (var (memberId, transactionId) in acknowledged)
        {
            Assert.Equal(1, await Ledger.CountAsync(memberId, transactionId, _a.LedgerConnectionString));
        }

        foreach (var memberId in members)
        {
            var ledgerBalance = await Ledger.SumPointsAsync(memberId, _a.LedgerConnectionString);
            Assert.True(ledgerBalance >= 0, memberId);
            long redisBalance = -1;
            for (var attempt = 0; attempt < 150 && redisBalance != ledgerBalance; attempt++)
            {
                redisBalance = (long)await database.HashGetAsync($"lc:{{m:{memberId}}}:s", "b");
                if (redisBalance != ledgerBalance)
                {
                    await Task.Delay(100);
                }
            }

            Assert.Equal(ledgerBalance, redisBalance);
            await RedisIsTheLedgersReplayAsync(_a, memberId);
        }

        // 46 + 2 × 46 − 20 for each victim (45 and the campaign's point per purchase), 20 less for three of them.
        var victimBalances = await Task.WhenAll(victims.Select(v => Ledger.SumPointsAsync(v, _a.LedgerConnectionString)));
        Assert.Equal(new long[] { 98, 98, 98, 118, 118, 118 }, victimBalances);

        // The draws the failover lost are taken off again: what remains is the total less the ledger's draws, but for
        // the draws in flight when the sweep ran (one point for each of the 12 callers at most).
        var drawn = await Ledger.CampaignDrawnAsync(_a.LedgerConnectionString, campaign);
        var remaining = (long)await database.StringGetAsync(budgetKey);
        Assert.True(drawn > members.Length, $"{drawn} points drawn");
        Assert.True(Math.Abs(remaining - (100_000 - drawn)) <= 12, $"{remaining} remain of 100000 with {drawn} drawn");
        // Before the sweep, the restored budget had given back every draw since the snapshot.
        Assert.True((long)budgetBefore - (100_000 - drawn) > 12, "the test lost no draws");
        var samples = await MetricSamples.ScrapeAsync(_a);
        Assert.True(samples["loyalty_hot_state_stale_repairs_total"] + samples["loyalty_hot_state_failover_reconciled_total"] >= victims.Count,
            $"stale repairs {samples["loyalty_hot_state_stale_repairs_total"]}, reconciled {samples["loyalty_hot_state_failover_reconciled_total"]}");
    }

    private static async Task AcknowledgedAsync(ServerInstance server, Google.Protobuf.IMessage request, System.Collections.Concurrent.ConcurrentBag<(string, string)> acknowledged)
    {
        var (memberId, transactionId) = request switch
        {
            ScoreRequest score => (score.MemberId, score.TransactionId),
            RedeemRequest redeem => (redeem.MemberId, redeem.TransactionId),
            _ => throw new ArgumentException("A score or a redemption.", nameof(request)),
        };
        if (await UntilAnsweredAsync(() => request is ScoreRequest score
            ? server.Scoring.ScoreAsync(score, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync
            : server.Scoring.RedeemAsync((RedeemRequest)request, deadline: DateTime.UtcNow.AddSeconds(5)).ResponseAsync))
        {
            acknowledged.Add((memberId, transactionId));
        }
    }

    /// <summary>Retries a transaction with the same id through a failover, as a till does: true once answered, false if refused.</summary>
    private static async Task<bool> UntilAnsweredAsync(Func<Task> call)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            try
            {
                await call();
                return true;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return false;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Internal or StatusCode.Unknown)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException("A transaction was never answered.");
    }

    /// <summary>As <see cref="ReplayAssert"/>, on the cluster: the member's keys are on one shard (their hash tag).</summary>
    private static async Task RedisIsTheLedgersReplayAsync(ServerInstance server, string memberId)
    {
        var database = Cluster.Value.GetDatabase();
        var stateKey = $"lc:{{m:{memberId}}}:s";
        var before = await StateAsync(database, stateKey);
        var master = Cluster.Value.GetServer(database.IdentifyEndpoint(stateKey)!);
        await foreach (var key in master.KeysAsync(pattern: $"lc:{{m:{memberId}}}:*"))
        {
            await database.KeyDeleteAsync(key);
        }

        Assert.True(await server.Get<MemberDirectory>().RebuildAsync(memberId, server.Get<ProgramProvider>().Current, CancellationToken.None));
        Assert.Equal(before, await StateAsync(database, stateKey));
        Assert.Equal(await Ledger.SumPointsAsync(memberId, server.LedgerConnectionString), (long)await database.HashGetAsync(stateKey, "b"));
    }

    private static async Task<List<(string, string)>> StateAsync(IDatabase database, string key) =>
        [.. (await database.HashGetAllAsync(key))
            .Where(e => e.Name == "b" || e.Name == "t" || e.Name.ToString().StartsWith("k.", StringComparison.Ordinal))
            .Select(e => (e.Name.ToString(), e.Value.ToString()))
            .OrderBy(e => e.Item1, StringComparer.Ordinal)];
}
