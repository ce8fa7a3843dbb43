using Grpc.Core;
using Grpc.Net.Client;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>
/// A real LoyaltyCore server, wired exactly as Program.cs wires it, listening on loopback ports and reached through
/// real gRPC channels.
/// </summary>
public sealed class ServerInstance : IAsyncDisposable
{
    public const string PosKey = "test-pos-key-0123456789";
    public const string AdminKey = "test-admin-key-0123456789";
    public const string SupportKey = "test-support-key-0123456789";

    private static readonly Lazy<Task<ServerInstance>> SharedInstance = new(() => StartAsync());

    private readonly WebApplication _app;
    private readonly GrpcChannel _channel;

    private ServerInstance(WebApplication app, int grpcPort, int metricsPort, int httpPort, string ledger)
    {
        HttpPort = httpPort;
        _app = app;
        LedgerConnectionString = ledger;
        GrpcPort = grpcPort;
        MetricsPort = metricsPort;
        _channel = CreateChannel(PosKey);
        Scoring = new ScoringService.ScoringServiceClient(_channel);
        Members = new MemberService.MemberServiceClient(_channel);
    }

    /// <summary>One server for every test that does not need its own; tests keep apart by unique ids.</summary>
    public static Task<ServerInstance> Shared => SharedInstance.Value;

    public int GrpcPort { get; }

    /// <summary>The PostgreSQL database this server's ledger is in.</summary>
    public string LedgerConnectionString { get; }

    public int MetricsPort { get; }

    /// <summary>The HTTP/JSON API's port.</summary>
    public int HttpPort { get; }

    public ScoringService.ScoringServiceClient Scoring { get; }

    public MemberService.MemberServiceClient Members { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a server against the test Redis and PostgreSQL; <paramref name="configure"/> overrides settings.</summary>
    /// <param name="ownLedger">A database of its own: for tests that publish programs, which are global to a ledger.</param>
    /// <param name="clock">The server's clock instead of the system's.</param>
    public static async Task<ServerInstance> StartAsync(Action<Dictionary<string, string?>>? configure = null, bool ownLedger = false, TimeProvider? clock = null)
    {
        // Port 0: the listeners bind a port the kernel picks, read back once started, so no other process can take it
        // between a probe and the bind.
        var settings = new Dictionary<string, string?>
        {
            ["Server:BindAddress"] = "127.0.0.1",
            ["Server:GrpcPort"] = "0",
            ["Server:MetricsPort"] = "0",
            ["Server:HttpPort"] = "0",
            ["HotState:Redis"] = TestEnvironment.Redis,
            // Short enough that a test can place a purchase before it and exercise the ledger fallback.
            ["HotState:ReplayWindow"] = "01:00:00",
            // The KPI gauges are per process: only the tests about them export them (KpiTests).
            ["Kpi:ExportEnabled"] = "false",
            ["Ledger:Provider"] = "Postgres",
            ["Ledger:ConnectionString"] = ownLedger ? await Ledger.CreateDatabaseAsync() : TestEnvironment.Postgres,
            ["Security:Clients:0:Id"] = "pos-test",
            ["Security:Clients:0:Key"] = PosKey,
            ["Security:Clients:0:Roles:0"] = "pos",
            ["Security:Clients:1:Id"] = "admin-test",
            ["Security:Clients:1:Key"] = AdminKey,
            ["Security:Clients:1:Roles:0"] = "admin",
            ["Security:Clients:2:Id"] = "support-test",
            ["Security:Clients:2:Key"] = SupportKey,
            ["Security:Clients:2:Roles:0"] = "support",
        };
        configure?.Invoke(settings);

        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            EnvironmentName = "Test",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddLoyaltyCore();
        if (clock is not null)
        {
            builder.Services.AddSingleton(clock);
        }

        var app = builder.Build();
        app.MapLoyaltyCore();
        await app.InitializeLoyaltyCoreAsync();
        await app.StartAsync();
        var (grpcPort, metricsPort, httpPort) = await BoundPortsAsync(app);
        return new ServerInstance(app, grpcPort, metricsPort, httpPort, settings["Ledger:ConnectionString"]!);
    }

    public GrpcChannel CreateChannel(string? apiKey)
    {
        var options = new GrpcChannelOptions { MaxReceiveMessageSize = 16 * 1024 * 1024 };
        if (apiKey is not null)
        {
            options.Credentials = ChannelCredentials.Create(
                ChannelCredentials.Insecure,
                CallCredentials.FromInterceptor((_, metadata) =>
                {
                    metadata.Add("authorization", "Bearer " + apiKey);
                    return Task.CompletedTask;
                }));
            options.UnsafeUseInsecureChannelCallCredentials = true;
        }

        return GrpcChannel.ForAddress($"http://127.0.0.1:{GrpcPort}", options);
    }

    public T Get<T>()
        where T : notnull => _app.Services.GetRequiredService<T>();

    public async Task<string> ScrapeMetricsAsync()
    {
        using var http = new HttpClient();
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics"));
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// The three ports the server bound: the one that answers a scrape is the metrics listener, the other cleartext
    /// HTTP/1.1 one (which has no metrics) the HTTP/JSON API, and the one that drops an HTTP/1.1 request gRPC's.
    /// </summary>
    private static async Task<(int Grpc, int Metrics, int Http)> BoundPortsAsync(WebApplication app)
    {
        var ports = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses
            .Select(address => new Uri(address).Port)
            .ToList();
        Assert.Equal(3, ports.Count);
        using var http = new HttpClient();
        int? metrics = null, api = null;
        foreach (var port in ports)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
                if (response.IsSuccessStatusCode)
                {
                    metrics = port;
                }
                else
                {
                    api = port;
                }
            }
            catch (HttpRequestException)
            {
                // The gRPC listener speaks HTTP/2 only and drops an HTTP/1.1 request.
            }
        }

        if (metrics is not { } m)
        {
            throw new InvalidOperationException("No bound port serves metrics.");
        }

        // Over TLS neither of the other two answers cleartext: they are bound in the order the server lists them,
        // gRPC's first.
        var others = ports.Where(p => p != m).ToList();
        return api is { } a ? (others.Single(p => p != a), m, a) : (others[0], m, others[1]);
    }
}
