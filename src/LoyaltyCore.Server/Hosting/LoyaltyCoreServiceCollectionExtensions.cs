using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Members;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using System.Net;
using Grpc.AspNetCore.Server.Model;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LoyaltyCore.Server.Hosting;

public static class LoyaltyCoreServiceCollectionExtensions
{
    /// <summary>Registers the whole server: options, hot state, ledger, scoring, gRPC, security and metrics.</summary>
    public static WebApplicationBuilder AddLoyaltyCore(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<HotStateOptions>().BindConfiguration(HotStateOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.ReplayWindow > o.ClockSkew * 2, "HotState:ReplayWindow must be well above HotState:ClockSkew.")
            .ValidateOnStart();
        services.AddOptions<LedgerOptions>().BindConfiguration(LedgerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ProgramOptions>().BindConfiguration(ProgramOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ScoringOptions>().BindConfiguration(ScoringOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<BenchmarkOptions>().BindConfiguration(BenchmarkOptions.Section);
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations()
            .Validate(o => o.Clients.All(c => c.Key.Length >= 16 && c.Roles.Count > 0), "Every Security:Clients entry needs a key of 16+ characters and a role.")
            .ValidateOnStart();
        services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<ServerOptions>>(
            (host, server) => host.ShutdownTimeout = server.Value.ShutdownTimeout);

        services.AddSingleton(TimeProvider.System);
        LoyaltyMetrics.ConfigureExports();
        services.AddSingleton<LoyaltyMetrics>();
        services.AddSingleton<ProgramProvider>();
        services.AddSingleton<BudgetStore>();
        services.AddSingleton<CampaignBudgets>();
        services.AddHostedService<ProgramWatcher>();
        services.AddSingleton<RedisConnection>();
        services.AddSingleton<HotStateStore>();
        services.AddSingleton<SnapshotCache>();
        services.AddSingleton<LedgerDatabase>();
        services.AddSingleton<LedgerStore>();
        services.AddSingleton<LedgerMigrator>();
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWriter>());
        services.AddSingleton<MemberDirectory>();
        services.AddSingleton<PendingRecoveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<PendingRecoveryService>());
        services.AddSingleton<MemberLocks>();
        services.AddSingleton<Admission>();
        services.AddSingleton<PipelineProbes>();
        services.AddSingleton<TransactionPipeline>();

        services.AddSingleton<ApiKeyDirectory>();
        services.AddAuthentication(ApiKeyAuthenticationOptions.Scheme)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationOptions.Scheme, null);
        services.AddAuthorization();

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ServerCallInterceptor>();
            options.EnableDetailedErrors = false;
        });
        services.AddSingleton<ServerCallInterceptor>();
        services.AddGrpcReflection();
        services.AddGrpcHealthChecks(options =>
            {
                options.UseHealthChecksCache = false;
                // Readiness (Redis and the ledger answer) under the empty name, "readiness" and each public service's
                // name; "liveness" only says the process serves gRPC, so a restart is never the answer to an outage
                // of Redis or PostgreSQL.
                options.Services.Clear();
                foreach (var name in HealthServiceNames.Readiness)
                {
                    options.Services.Map(name, result => result.Tags.Contains(HealthServiceNames.ReadyTag));
                }

                options.Services.Map(HealthServiceNames.Liveness, result => result.Tags.Contains(HealthServiceNames.LiveTag));
            })
            .AddCheck<HotStateHealthCheck>("redis", tags: [HealthServiceNames.ReadyTag])
            .AddCheck<LedgerHealthCheck>("ledger", tags: [HealthServiceNames.ReadyTag])
            .AddCheck("process", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy(), tags: [HealthServiceNames.LiveTag]);
        // After every AddGrpc* call (each may add the framework's provider): every service is bound with request
        // marshallers that refuse an undecodable message as INVALID_ARGUMENT.
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(DecodingServiceMethodProvider<>));
        services.AddSingleton<UndecodableMessages>();


        var server = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.MaxReceiveMessageSize = server.MaxRequestBytes);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = IPAddress.Parse(server.BindAddress);
            kestrel.Listen(address, server.GrpcPort, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Listen(address, server.MetricsPort, listen => listen.Protocols = HttpProtocols.Http1);
        });

        return builder;
    }
}
