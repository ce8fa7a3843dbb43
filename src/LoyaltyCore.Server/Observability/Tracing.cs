using System.Diagnostics;
using LoyaltyCore.Server.Configuration;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace LoyaltyCore.Server.Observability;

/// <summary>
/// OpenTelemetry tracing, off unless <c>Tracing:OtlpEndpoint</c> is set: a span per RPC (ASP.NET Core's), with child
/// spans for the Redis apply script and the ledger commit the call waited for, exported over OTLP. With no listener,
/// <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and costs a branch.
/// </summary>
internal static class Tracing
{
    public const string SourceName = "LoyaltyCore";

    public const string RedisApply = "redis apply";

    public const string LedgerCommit = "ledger commit";

    public const string OutcomeTag = "loyalty.apply.outcome";

    public static readonly ActivitySource Source = new(SourceName);

    public static void AddLoyaltyTracing(this WebApplicationBuilder builder, TracingOptions options)
    {
        if (options.OtlpEndpoint is not { } endpoint)
        {
            return;
        }

        // The trace and span ids of the call on every log line written within it.
        builder.Logging.Configure(logging => logging.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(console => console.IncludeScopes = true);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)))
                .AddSource(SourceName)
                // Scrapes and health probes are not calls anyone traces.
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal)
                    && !context.Request.Path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal))
                .AddOtlpExporter(otlp =>
                {
                    otlp.Endpoint = endpoint;
                    otlp.Protocol = options.Protocol;
                }));
    }
}
