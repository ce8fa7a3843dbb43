using System.Net;
using Grpc.AspNetCore.Server.Model;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Benchmark;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Kpis;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Members;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Reports;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Hosting;

public static class LoyaltyCoreServiceCollectionExtensions
{
    /// <summary>Registers the whole server: options, hot state, ledger, scoring, gRPC, security, metrics and tracing.</summary>
    /// <param name="args">The command line: an ops command (<c>report</c>, <c>rebuild</c>...) logs to standard error,
    /// so that standard output carries only what it writes.</param>
    public static WebApplicationBuilder AddLoyaltyCore(this WebApplicationBuilder builder, string[]? args = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (args?.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('=', StringComparison.Ordinal)) is { } command && command != "serve")
        {
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        }

        var services = builder.Services;
        var settings = new SettingsCheck();
        services.AddSingleton(settings);
        OptionsBuilder<T> Bind<T>(string section)
            where T : class
        {
            settings.Add<T>();
            return services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations();
        }

        Bind<ServerOptions>(ServerOptions.Section)
            .Validate(o => IPAddress.TryParse(o.BindAddress, out _), "Server:BindAddress must be an IP address, such as 127.0.0.1 or 0.0.0.0.")
            .Validate(o => o.Tls.Enabled || o.AllowCleartextOnNetwork || !IPAddress.TryParse(o.BindAddress, out var a) || IPAddress.IsLoopback(a),
                "Server:BindAddress is not a loopback address but gRPC would be cleartext: set Server:Tls:CertificatePath and Server:Tls:KeyPath, or Server:AllowCleartextOnNetwork=true when TLS ends in front of the server.")
            .Validate(o => !o.Tls.Enabled || (File.Exists(o.Tls.CertificatePath) && File.Exists(o.Tls.KeyPath)),
                "Server:Tls:CertificatePath and Server:Tls:KeyPath must both name readable PEM files.")
            .Validate(o => o.Tls.ClientCertificates == ClientCertificates.None || (o.Tls.Enabled && File.Exists(o.Tls.ClientCaPath)),
                "Server:Tls:ClientCertificates needs TLS and Server:Tls:ClientCaPath naming a PEM file of the client authorities.")
            .ValidateOnStart();
        Bind<HotStateOptions>(HotStateOptions.Section)
            .Validate(o => o.ReplayWindow > o.ClockSkew * 2, "HotState:ReplayWindow must be well above HotState:ClockSkew.")
            .ValidateOnStart();
        Bind<LedgerOptions>(LedgerOptions.Section).ValidateOnStart();
        Bind<ProgramOptions>(ProgramOptions.Section).ValidateOnStart();
        Bind<ScoringOptions>(ScoringOptions.Section).ValidateOnStart();
        Bind<EventOptions>(EventOptions.Section).ValidateOnStart();
        Bind<HoldOptions>(HoldOptions.Section)
            .Validate(o => o.DefaultLifetime <= o.MaxLifetime, "Holds:DefaultLifetime must not exceed Holds:MaxLifetime.")
            .ValidateOnStart();
        Bind<ExpiryOptions>(ExpiryOptions.Section).ValidateOnStart();
        Bind<PartnerOptions>(PartnerOptions.Section).ValidateOnStart();
        Bind<KpiOptions>(KpiOptions.Section).ValidateOnStart();
        Bind<TracingOptions>(TracingOptions.Section)
            .Validate(o => o.OtlpEndpoint is null || o.OtlpEndpoint.IsAbsoluteUri, "Tracing:OtlpEndpoint must be an absolute URI, such as http://collector:4317.")
            .ValidateOnStart();
        Bind<BenchmarkOptions>(BenchmarkOptions.Section);
        Bind<SecurityOptions>(SecurityOptions.Section)
            .Validate(o => o.Clients.All(c => c.Key.Length >= 16 && c.Roles.Count > 0), "Every Security:Clients entry needs a key of 16+ characters and a role.")
            .ValidateOnStart();

        // Read before the container is built, as the tracer is set up with it; a value that does not bind is reported
        // with every other bad setting (SettingsCheck) and leaves tracing off meanwhile.
        TracingOptions? tracing;
        try
        {
            tracing = builder.Configuration.GetSection(TracingOptions.Section).Get<TracingOptions>();
        }
        catch (InvalidOperationException)
        {
            tracing = null;
        }

        if (tracing?.OtlpEndpoint is { IsAbsoluteUri: true } && tracing.SampleRatio is >= 0 and <= 1)
        {
            builder.AddLoyaltyTracing(tracing);
        }

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
        services.AddSingleton<DurableFloor>();
        services.AddSingleton<TransactionHistory>();
        services.AddSingleton<LedgerWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<LedgerWriter>());
        services.AddSingleton<MemberDirectory>();
        services.AddSingleton<PendingRecoveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<PendingRecoveryService>());
        services.AddSingleton<BirthdayRun>();
        services.AddHostedService(sp => sp.GetRequiredService<BirthdayRun>());
        services.AddSingleton<HoldExpiryRun>();
        services.AddHostedService(sp => sp.GetRequiredService<HoldExpiryRun>());
        services.AddSingleton<PointExpiryRun>();
        services.AddHostedService(sp => sp.GetRequiredService<PointExpiryRun>());
        services.AddSingleton<KpiStore>();
        services.AddSingleton<KpiRollups>();
        services.AddHostedService<KpiGauges>();
        services.AddHostedService<DependencyProbe>();
        services.AddHostedService<FailoverReconciler>();
        services.AddSingleton<KpiReports>();
        services.AddSingleton<MemberLocks>();
        services.AddSingleton<Admission>();
        services.AddSingleton<PipelineProbes>();
        services.AddSingleton<TransactionPipeline>();

        services.AddSingleton<ApiKeyDirectory>();
        services.AddSingleton<PartnerStore>();
        services.AddSingleton<OfferStore>();
        services.AddSingleton<SettlementStore>();
        services.AddSingleton<PartnerKeys>();
        services.AddPartnerRateLimits();
        services.AddAuthentication(ApiKeyAuthenticationOptions.Scheme)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationOptions.Scheme, null);
        services.AddAuthorization();

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<ServerCallInterceptor>();
            options.EnableDetailedErrors = false;
        }).AddJsonTranscoding(transcoding =>
            // The error details the services send, so HTTP/JSON errors carry them as gRPC's do.
            transcoding.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromMessages(Google.Rpc.BadRequest.Descriptor));
        services.AddSingleton<ServerCallInterceptor>();
        // The OpenAPI document of the HTTP/JSON API, generated from the same protos (/swagger/v1/swagger.json).
        services.AddGrpcSwagger();
        services.AddSwaggerGen(swagger => swagger.SwaggerDoc("v1", new Microsoft.OpenApi.Models.OpenApiInfo
        {
            Title = "LoyaltyCore HTTP/JSON API",
            Version = "v1",
            Description = "Partners and their administration over HTTP/JSON, transcoded from the gRPC contract (protos/loyalty/v1/partners.proto). "
                + "Send 'Authorization: Bearer <key>'; errors are google.rpc.Status.",
        }));
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
        // The HTTP/JSON routes are the transcoding provider's, kept.
        var transcoding = services.Where(d => d.ServiceType == typeof(IServiceMethodProvider<>)
            && d.ImplementationType?.Assembly == typeof(Microsoft.AspNetCore.Grpc.JsonTranscoding.GrpcJsonTranscodingOptions).Assembly).ToList();
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(DecodingServiceMethodProvider<>));
        foreach (var descriptor in transcoding)
        {
            services.Add(descriptor);
        }
        services.AddSingleton<UndecodableMessages>();


        // The host and Kestrel are configured while the host is built, before options are validated: read the values
        // unvalidated here (defaults if they do not even bind), and let the validation report what is wrong.
        var server = UnvalidatedServerOptions(builder.Configuration);
        services.Configure<HostOptions>(host => host.ShutdownTimeout = server.ShutdownTimeout);
        services.Configure<Grpc.AspNetCore.Server.GrpcServiceOptions>(o => o.MaxReceiveMessageSize = server.MaxRequestBytes);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (!IPAddress.TryParse(server.BindAddress, out var address) || server.GrpcPort is < 0 or > 65535 || server.MetricsPort is < 0 or > 65535
                || server.HttpPort is < 0 or > 65535)
            {
                // Never started: the settings check refuses to run first and names the setting.
                return;
            }

            kestrel.Listen(address, server.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                Listeners.Tag(listen, Listeners.Grpc);
                if (server.Tls.Enabled)
                {
                    UseTls(listen, server.Tls, kestrel.ApplicationServices);
                }
            });
            kestrel.Listen(address, server.HttpPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                Listeners.Tag(listen, Listeners.HttpApi);
                if (server.Tls.Enabled)
                {
                    UseTls(listen, server.Tls, kestrel.ApplicationServices);
                }
            });
            kestrel.Listen(address, server.MetricsPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                Listeners.Tag(listen, Listeners.Metrics);
            });
        });

        return builder;
    }

    private static void UseTls(ListenOptions listen, TlsOptions tls, IServiceProvider services)
    {
        var certificates = new TlsCertificates(tls, TimeProvider.System, services.GetRequiredService<ILoggerFactory>().CreateLogger<TlsCertificates>());
        listen.UseHttps(https =>
        {
            https.ServerCertificateSelector = (_, _) => certificates.Current();
            https.ClientCertificateMode = tls.ClientCertificates switch
            {
                ClientCertificates.Require => ClientCertificateMode.RequireCertificate,
                ClientCertificates.Allow => ClientCertificateMode.AllowCertificate,
                _ => ClientCertificateMode.NoCertificate,
            };
            if (tls.ClientCertificates != ClientCertificates.None)
            {
                https.ClientCertificateValidation = (certificate, _, errors) => certificates.ValidateClient(certificate, errors);
            }
        });
    }

    private static ServerOptions UnvalidatedServerOptions(ConfigurationManager configuration)
    {
        try
        {
            return configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        }
        catch (InvalidOperationException)
        {
            return new ServerOptions();
        }
    }
}
