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
    private static readonly Lazy<ConnectionMultiplexer> Cluster = new(() => ConnectionMultiplexer.Connect(TestEnvironment.RedisCluster));

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
