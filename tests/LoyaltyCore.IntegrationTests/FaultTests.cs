using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Faults under load, on real processes: two server processes on a Redis and a PostgreSQL of their own, while tills
/// retry every unanswered call with the same transaction. One server is killed (SIGKILL) and started again; Redis is
/// killed and started empty; PostgreSQL is stopped immediately (a crash) and started again. (A Redis Cluster master
/// killed under load: <see cref="ClusterTests"/>.) Afterwards every acknowledged transaction is in the ledger exactly
/// once, no balance is negative, and Redis is the ledger's replay. Then the same on the Redis Cluster, with a server
/// process killed and a master killed. Alone: it loads the machine.
/// </summary>
[Collection(nameof(GroupCommitTests))]
public sealed class FaultTests
{
    private const string PosKey = "fault-pos-key-0123456789";

    [Fact]
    public async Task Killed_servers_an_emptied_redis_and_a_crashed_ledger_under_load_lose_double_and_overdraw_nothing()
    {
        var ledger = TestEnvironment.Require("LOYALTY_TEST_FAULT_POSTGRES");
        var pgCtl = TestEnvironment.Require("LOYALTY_TEST_FAULT_PG_CTL");
        var directory = Directory.CreateTempSubdirectory("loyaltycore-faults-");
        await using var redis = RedisProcess.Start(FreePort());
        var ports = Enumerable.Range(0, 2).Select(_ => (Grpc: FreePort(), Metrics: FreePort(), Http: FreePort())).ToArray();
        Dictionary<string, string> Settings(int i) => ServerSettings($"127.0.0.1:{redis.Port},connectTimeout=1000,syncTimeout=2000", ledger + ";Timeout=3;Command Timeout=5", ports[i]);
        var servers = new ServerProcessHandle?[2];
        try
        {
            var (clients, members) = await StartFleetAsync(servers, Settings, ports);

            var acknowledged = new ConcurrentBag<(string MemberId, string TransactionId)>();
            var workers = Load(clients, members, TimeSpan.FromSeconds(26), acknowledged);

            await Task.Delay(3000);
            servers[0]!.Kill();
            await Task.Delay(2000);
            servers[0] = await ServerProcessHandle.StartAsync(Settings(0), ports[0].Grpc);
            await Task.Delay(3000);
            await redis.RestartEmptyAsync();
            await Task.Delay(4000);
            await RunAsync(pgCtl, "stop");
            await Task.Delay(3000);
            await RunAsync(pgCtl, "start");
            await workers;

            // Entries Redis applied but no request saw committed are committed by the recovery (every 2 s here).
            await Task.Delay(5000);
            using var hot = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{redis.Port}");
            await AssertNothingLostDoubledOverdrawnOrDriftedAsync(ledger, hot, members, acknowledged, servers, Settings(0));
            Assert.True(acknowledged.Count > 200, $"only {acknowledged.Count} transactions were acknowledged");
        }
        finally
        {
            foreach (var server in servers)
            {
                server?.Kill();
            }

            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_refused_change_whose_repair_finds_the_ledger_down_leaves_nothing_of_it_in_redis()
    {
        var ledger = TestEnvironment.Require("LOYALTY_TEST_FAULT_POSTGRES");
        var pgCtl = TestEnvironment.Require("LOYALTY_TEST_FAULT_PG_CTL");
        await using var server = await ServerInstance.StartAsync(s => s["Ledger:ConnectionString"] = ledger + ";Timeout=3;Command Timeout=5");
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var earned = await server.Scoring.ScoreAsync(Requests.Score(memberId));
        // What a change the ledger refused left in Redis, to be undone by the repair.
        await HotState.SetBalanceAsync(memberId, 999);

        await RunAsync(pgCtl, "stop");
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => server.Get<Server.Transactions.MemberDirectory>()
                .RepairAfterConflictAsync(memberId, Ids.Transaction(), server.Get<Server.Programs.ProgramProvider>().Current));
            Assert.False(await HotState.Database.KeyExistsAsync($"lc:{{m:{memberId}}}:s"));
        }
        finally
        {
            await RunAsync(pgCtl, "start");
        }

        // The next call loads the member from the ledger (once the ledger answers again, as a till retries).
        long? balance = null;
        for (var attempt = 0; attempt < 50 && balance is null; attempt++)
        {
            try
            {
                balance = (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable)
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal(earned.Balance, balance);
    }

    [Fact]
    public async Task Server_processes_on_the_cluster_survive_a_killed_server_and_a_killed_master_under_load()
    {
        var ledger = await Ledger.CreateDatabaseAsync();
        var ports = Enumerable.Range(0, 2).Select(_ => (Grpc: FreePort(), Metrics: FreePort(), Http: FreePort())).ToArray();
        Dictionary<string, string> Settings(int i) => ServerSettings(TestEnvironment.RedisCluster, ledger, ports[i]);
        var servers = new ServerProcessHandle?[2];
        using var cluster = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.RedisCluster + ",allowAdmin=true");
        try
        {
            var (clients, members) = await StartFleetAsync(servers, Settings, ports);

            // A master that still has a replica (an earlier test may have used one up).
            var master = cluster.GetServers().Where(s => !s.IsReplica && s.IsConnected)
                .First(s => s.ClusterConfiguration!.Nodes.Single(n => n.EndPoint!.Equals(s.EndPoint)).Children.Count > 0);
            var masterPid = int.Parse((await master.InfoAsync("server")).SelectMany(g => g).Single(p => p.Key == "process_id").Value, CultureInfo.InvariantCulture);

            var acknowledged = new ConcurrentBag<(string MemberId, string TransactionId)>();
            var workers = Load(clients, members, TimeSpan.FromSeconds(16), acknowledged);
            await Task.Delay(3000);
            servers[0]!.Kill();
            await Task.Delay(2000);
            servers[0] = await ServerProcessHandle.StartAsync(Settings(0), ports[0].Grpc);
            await Task.Delay(2000);
            Process.GetProcessById(masterPid).Kill();
            await workers;
            await Task.Delay(5000);

            await AssertNothingLostDoubledOverdrawnOrDriftedAsync(ledger, cluster, members, acknowledged, servers, Settings(0));
            Assert.True(acknowledged.Count > 100, $"only {acknowledged.Count} transactions were acknowledged");
        }
        finally
        {
            foreach (var server in servers)
            {
                server?.Kill();
            }
        }
    }

    /// <summary>Starts the two server processes and enrols 40 members through the first.</summary>
    private static async Task<((ScoringService.ScoringServiceClient Scoring, MemberService.MemberServiceClient Members)[] Clients, string[] Members)> StartFleetAsync(
        ServerProcessHandle?[] servers, Func<int, Dictionary<string, string>> settings, (int Grpc, int Metrics, int Http)[] ports)
    {
        for (var i = 0; i < servers.Length; i++)
        {
            servers[i] = await ServerProcessHandle.StartAsync(settings(i), ports[i].Grpc);
        }

        var clients = ports.Select(p => Client(p.Grpc)).ToArray();
        var members = Enumerable.Range(0, 40).Select(_ => Ids.Member()).ToArray();
        foreach (var memberId in members)
        {
            await clients[0].Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        }

        return (clients, members);
    }

    private static Dictionary<string, string> ServerSettings(string redis, string ledger, (int Grpc, int Metrics, int Http) ports) => new()
    {
        ["HotState__Redis"] = redis,
        ["HotState__PendingRecoveryInterval"] = "00:00:02",
        ["Ledger__Provider"] = "Postgres",
        ["Ledger__ConnectionString"] = ledger,
        ["Ledger__MigrateOnStart"] = "true",
        ["Server__GrpcPort"] = ports.Grpc.ToString(CultureInfo.InvariantCulture),
        ["Server__MetricsPort"] = ports.Metrics.ToString(CultureInfo.InvariantCulture),
        ["Server__HttpPort"] = ports.Http.ToString(CultureInfo.InvariantCulture),
        ["Security__Clients__0__Id"] = "tills",
        ["Security__Clients__0__Key"] = PosKey,
        ["Security__Clients__0__Roles__0"] = "pos",
    };

    /// <summary>
    /// Every acknowledged transaction in the ledger exactly once, no balance negative, every Redis balance the
    /// ledger's; then, the servers stopped, the rebuild command changes no member's balance, tier or counter.
    /// </summary>
    private static async Task AssertNothingLostDoubledOverdrawnOrDriftedAsync(
        string ledger,
        ConnectionMultiplexer hot,
        string[] members,
        ConcurrentBag<(string MemberId, string TransactionId)> acknowledged,
        ServerProcessHandle?[] servers,
        Dictionary<string, string> settings)
    {
        foreach (var (memberId, transactionId) in acknowledged)
        {
            Assert.Equal(1, await Ledger.CountAsync(memberId, transactionId, ledger));
        }

        foreach (var memberId in members)
        {
            var balance = await Ledger.SumPointsAsync(memberId, ledger);
            Assert.True(balance >= 0, memberId);
            var state = await hot.GetDatabase().HashGetAsync($"lc:{{m:{memberId}}}:s", "b");
            Assert.True(state.IsNull || (long)state == balance, $"{memberId}: Redis {state}, ledger {balance}");
        }

        var before = await StatesAsync(hot, members);
        foreach (var server in servers)
        {
            server!.Kill();
        }

        var (exitCode, output) = await ServerProcess.RunAsync(settings, "rebuild");
        Assert.True(exitCode == 0, output);
        Assert.Equal(before, await StatesAsync(hot, members));
    }

    /// <summary>Ten tills buying and redeeming for a while, each retrying an unanswered call with the same transaction.</summary>
    private static Task Load(
        (ScoringService.ScoringServiceClient Scoring, MemberService.MemberServiceClient Members)[] clients,
        string[] members,
        TimeSpan duration,
        ConcurrentBag<(string MemberId, string TransactionId)> acknowledged)
    {
        var stop = DateTime.UtcNow + duration;
        return Task.WhenAll(Enumerable.Range(0, 10).Select(worker => Task.Run(async () =>
        {
            var random = new Random(worker);
            while (DateTime.UtcNow < stop)
            {
                var memberId = members[random.Next(members.Length)];
                var redeem = random.Next(3) == 0;
                var purchase = Requests.Score(memberId);
                var redemption = Requests.Redeem(memberId, 30);
                for (var attempt = 0; attempt < 600; attempt++)
                {
                    var client = clients[random.Next(clients.Length)];
                    try
                    {
                        if (redeem)
                        {
                            await client.Scoring.RedeemAsync(redemption, deadline: DateTime.UtcNow.AddSeconds(3));
                        }
                        else
                        {
                            await client.Scoring.ScoreAsync(purchase, deadline: DateTime.UtcNow.AddSeconds(3));
                        }

                        acknowledged.Add((memberId, redeem ? redemption.TransactionId : purchase.TransactionId));
                        break;
                    }
                    catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
                    {
                        break;
                    }
                    catch (RpcException)
                    {
                        // UNAVAILABLE, a deadline, a connection refused by a killed server: a till retries.
                        await Task.Delay(100);
                    }
                }
            }
        })));
    }

    private static (ScoringService.ScoringServiceClient Scoring, MemberService.MemberServiceClient Members) Client(int port)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{port}", new GrpcChannelOptions
        {
            Credentials = ChannelCredentials.Create(ChannelCredentials.Insecure, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + PosKey);
                return Task.CompletedTask;
            })),
            UnsafeUseInsecureChannelCallCredentials = true,
        });
        return (new ScoringService.ScoringServiceClient(channel), new MemberService.MemberServiceClient(channel));
    }

    private static async Task<List<string>> StatesAsync(ConnectionMultiplexer hot, string[] members)
    {
        var states = new List<string>();
        foreach (var memberId in members)
        {
            var fields = await hot.GetDatabase().HashGetAllAsync($"lc:{{m:{memberId}}}:s");
            states.Add(memberId + ":" + string.Join(',', fields
                .Where(e => e.Name == "b" || e.Name == "t" || e.Name.ToString().StartsWith("k.", StringComparison.Ordinal))
                .Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal)));
        }

        return states;
    }

    private static async Task RunAsync(string script, string argument)
    {
        using var process = Process.Start(new ProcessStartInfo(script, [argument]) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{script} {argument}: {await error}");
    }

    internal static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>A redis-server of the test's own, without persistence: a restart starts it empty.</summary>
    private sealed class RedisProcess : IAsyncDisposable
    {
        private Process _process;

        private RedisProcess(int port)
        {
            Port = port;
            _process = Launch(port);
        }

        public int Port { get; }

        public static RedisProcess Start(int port) => new(port);

        public async Task RestartEmptyAsync()
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = Launch(Port);
            await Task.Delay(300);
        }

        public async ValueTask DisposeAsync()
        {
            _process.Kill();
            await _process.WaitForExitAsync();
            _process.Dispose();
        }

        private static Process Launch(int port) => Process.Start(new ProcessStartInfo("redis-server",
            ["--bind", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"])
        {
            RedirectStandardOutput = true,
        })!;
    }

    /// <summary>The server binary as a process, ready once its health service answers SERVING.</summary>
    private sealed class ServerProcessHandle
    {
        private readonly Process _process;

        private ServerProcessHandle(Process process) => _process = process;

        public static async Task<ServerProcessHandle> StartAsync(Dictionary<string, string> settings, int grpcPort)
        {
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "LoyaltyCore.Server.dll")])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["DOTNET_ENVIRONMENT"] = "Production";
            start.Environment["Logging__LogLevel__Default"] = "Warning";
            foreach (var (name, value) in settings)
            {
                start.Environment[name] = value;
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{grpcPort}");
            var health = new Health.HealthClient(channel);
            for (var attempt = 0; attempt < 300; attempt++)
            {
                try
                {
                    if ((await health.CheckAsync(new HealthCheckRequest(), deadline: DateTime.UtcNow.AddSeconds(1))).Status == HealthCheckResponse.Types.ServingStatus.Serving)
                    {
                        return new ServerProcessHandle(process);
                    }
                }
                catch (RpcException)
                {
                }

                await Task.Delay(100);
            }

            process.Kill();
            throw new TimeoutException("The server process did not become ready.");
        }

        public void Kill()
        {
            if (!_process.HasExited)
            {
                // SIGKILL: nothing flushed, nothing closed.
                _process.Kill();
                _process.WaitForExit();
            }
        }
    }
}
