using System.ComponentModel.DataAnnotations;

namespace LoyaltyCore.Server.Configuration;

/// <summary>Where the server listens. gRPC speaks HTTP/2, over TLS when <see cref="Tls"/> names a certificate; metrics HTTP/1.1.</summary>
public sealed class ServerOptions
{
    public const string Section = "Server";

    /// <summary>TLS on the gRPC listener; without a certificate gRPC is cleartext (h2c).</summary>
    public TlsOptions Tls { get; set; } = new();

    /// <summary>
    /// Cleartext gRPC on an address other than loopback, for a deployment whose TLS ends in front of the server (a
    /// load balancer, a sidecar). Without it the server refuses to start there: keys would cross the network in clear.
    /// </summary>
    public bool AllowCleartextOnNetwork { get; set; }

    [Required]
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>0 binds a free port the kernel picks (tests, side-by-side instances).</summary>
    [Range(0, 65535)]
    public int GrpcPort { get; set; } = 5000;

    /// <summary>0 binds a free port the kernel picks.</summary>
    [Range(0, 65535)]
    public int MetricsPort { get; set; } = 9464;

    /// <summary>
    /// The HTTP/JSON API (HTTP/1.1, the partner API transcoded from the protos): a listener of its own, since gRPC's
    /// cleartext listener speaks HTTP/2 only. TLS as gRPC's. 0 binds a free port the kernel picks.
    /// </summary>
    [Range(0, 65535)]
    public int HttpPort { get; set; } = 5080;

    /// <summary>Larger requests are refused with RESOURCE_EXHAUSTED before they are parsed.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 256 * 1024;

    /// <summary>How long shutdown waits for in-flight requests and pending ledger commits.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);
}

public enum ClientCertificates
{
    /// <summary>Clients authenticate with their API key only.</summary>
    None,

    /// <summary>A client may present a certificate; if it does, it must chain to <see cref="TlsOptions.ClientCaPath"/>.</summary>
    Allow,

    /// <summary>Mutual TLS: every client presents a certificate that chains to <see cref="TlsOptions.ClientCaPath"/> (the API key is still required).</summary>
    Require,
}

public sealed class TlsOptions
{
    /// <summary>PEM file of the server's certificate (its chain may follow). Reloaded when the file changes.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM file of the certificate's private key.</summary>
    public string? KeyPath { get; set; }

    public ClientCertificates ClientCertificates { get; set; } = ClientCertificates.None;

    /// <summary>PEM file of the certificate authorities client certificates must chain to (partners, store servers).</summary>
    public string? ClientCaPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

public sealed class HotStateOptions
{
    public const string Section = "HotState";

    /// <summary>A StackExchange.Redis configuration string. Empty runs the embedded in-process server.</summary>
    public string? Redis { get; set; }

    [Required]
    [RegularExpression("^[A-Za-z0-9_-]{1,16}$")]
    public string KeyPrefix { get; set; } = "lc";

    /// <summary>How long a transaction's answer stays in Redis for retries; older retries are answered from the ledger.</summary>
    public TimeSpan ReplayWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far a till's clock may run ahead of ours.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Members whose last known state is kept in process, so a warm member costs one Lua round trip.</summary>
    [Range(0, 10_000_000)]
    public int SnapshotCacheCapacity { get; set; } = 100_000;

    /// <summary>
    /// Apply script calls in flight at once; while they run, the next transactions gather into the next call.
    /// </summary>
    [Range(1, 64)]
    public int MaxConcurrentApplies { get; set; } = 4;

    /// <summary>How often entries left pending by a failed commit or a crash are written to the ledger.</summary>
    public TimeSpan PendingRecoveryInterval { get; set; } = TimeSpan.FromSeconds(30);
}

public enum LedgerProvider
{
    Sqlite,
    Postgres,
}

public sealed class LedgerOptions
{
    public const string Section = "Ledger";

    public LedgerProvider Provider { get; set; } = LedgerProvider.Sqlite;

    [Required]
    public string ConnectionString { get; set; } = "Data Source=data/ledger.db";

    /// <summary>Apply pending schema migrations when the server starts (otherwise run the <c>migrate</c> command).</summary>
    public bool MigrateOnStart { get; set; } = true;

    [Range(1, 10_000)]
    public int MaxBatchSize { get; set; } = 512;

    /// <summary>Commits in flight at once; while they run, the next requests gather into the next batch.</summary>
    [Range(1, 64)]
    public int MaxConcurrentCommits { get; set; } = 2;

    [Range(1, 1_000_000)]
    public int QueueCapacity { get; set; } = 16_384;

    /// <summary>
    /// How long a change waits for the member's change before it to be committed (another server may be committing
    /// it) before its call is answered unavailable; it stays pending in Redis and is committed after that one.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PredecessorWait { get; set; } = TimeSpan.FromSeconds(5);
}

public sealed class EventOptions
{
    public const string Section = "Events";

    /// <summary>Whether this server runs the birthday run; every server may, the run is exactly-once per member and year.</summary>
    public bool BirthdayRunEnabled { get; set; } = true;

    /// <summary>How often the birthday run looks for members whose birthday is today (program time zone).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan BirthdayRunInterval { get; set; } = TimeSpan.FromHours(1);
}

public sealed class HoldOptions
{
    public const string Section = "Holds";

    /// <summary>How long a hold lasts when the authorization names no lifetime.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan DefaultLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The longest lifetime an authorization may ask for.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Whether this server releases expired holds; every server may, each hold is released exactly once.</summary>
    public bool ExpiryRunEnabled { get; set; } = true;

    /// <summary>How often the expiry run looks for holds past their expiry.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How far back each run looks again, past the holds it has already released: an authorization another server
    /// recorded just before a run may be committed just after it.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan SweepLookback { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often a run looks at every hold past its expiry instead of the recent ones: an authorization whose row
    /// reached the ledger later than the lookback (a ledger outage, a crashed server's entries recovered) is released
    /// by the next such run at the latest.
    /// </summary>
    [Range(typeof(TimeSpan), "00:01:00", "1.00:00:00")]
    public TimeSpan FullSweepInterval { get; set; } = TimeSpan.FromHours(1);
}

public sealed class ExpiryOptions
{
    public const string Section = "Expiry";

    /// <summary>Whether this server runs the points expiry; every server may, each lot expires exactly once.</summary>
    public bool RunEnabled { get; set; } = true;

    /// <summary>How often the run looks at today (program clock); a day whose run finished costs one query.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RunInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Days before the last finished run's day that a run looks at again: a row committed after that run (a ledger
    /// outage, a crashed server's entries recovered, a purchase uploaded late) is still seen.
    /// </summary>
    [Range(1, 3660)]
    public int LookbackDays { get; set; } = 7;
}

public sealed class ProgramOptions
{
    public const string Section = "Program";

    /// <summary>The program file, relative to the content root or absolute.</summary>
    [Required]
    public string Path { get; set; } = "programs/sample-program.json";
}

public sealed class ScoringOptions
{
    public const string Section = "Scoring";

    [Range(1, 10_000)]
    public int MaxLines { get; set; } = 200;

    /// <summary>Labels one purchase line may carry.</summary>
    [Range(0, 100)]
    public int MaxLabelsPerLine { get; set; } = 10;

    /// <summary>Longest label value, in characters (keys are identifiers of at most 64).</summary>
    [Range(1, 1024)]
    public int MaxLabelLength { get; set; } = 64;

    /// <summary>Oldest purchase accepted (offline tills upload late).</summary>
    public TimeSpan MaxBackdate { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Largest basket total, in minor units; keeps every derived points figure far from int64 limits.</summary>
    [Range(1, long.MaxValue)]
    public long MaxBasketTotalMinor { get; set; } = 1_000_000_000_000;

    [Range(1, long.MaxValue)]
    public long MaxRedeemPoints { get; set; } = 1_000_000_000_000;

    /// <summary>Transactions in flight at once; more are refused with RESOURCE_EXHAUSTED.</summary>
    [Range(1, 1_000_000)]
    public int MaxInFlight { get; set; } = 2048;

    /// <summary>Transactions of one ScoreStream evaluated concurrently (answers still go back in order).</summary>
    [Range(1, 4096)]
    public int StreamWindow { get; set; } = 64;
}

public sealed class BenchmarkOptions
{
    public const string Section = "Benchmark";

    /// <summary>Maps EchoService, the transport-only baseline for load tests. Off in production.</summary>
    public bool EnableEcho { get; set; }
}

public sealed class KpiOptions
{
    public const string Section = "Kpi";

    /// <summary>Whether this server keeps the KPI rollups up and exports the <c>loyalty_kpi_*</c> gauges.</summary>
    public bool ExportEnabled { get; set; } = true;

    /// <summary>How often the rollups catch up with the ledger and the gauges are read again.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Ledger rows summed per rollup transaction: a busy member's rows of a page merge into one upsert.</summary>
    [Range(100, 100_000)]
    public int RollupPageSize { get; set; } = 20_000;

    /// <summary>What a thousand points cost the program, in minor units of its currency; unset, no cost is reported.</summary>
    [Range(0, 1_000_000_000)]
    public long? PointCostPerThousandMinor { get; set; }

    /// <summary>The program's running costs per month (platform, staff, agency), in minor units.</summary>
    [Range(0, 1_000_000_000_000)]
    public long RunningCostPerMonthMinor { get; set; }
}

public sealed class TracingOptions
{
    public const string Section = "Tracing";

    /// <summary>The OTLP collector (http://collector:4317 for gRPC, :4318/v1/traces for HTTP); unset, tracing is off.</summary>
    public Uri? OtlpEndpoint { get; set; }

    public OpenTelemetry.Exporter.OtlpExportProtocol Protocol { get; set; } = OpenTelemetry.Exporter.OtlpExportProtocol.Grpc;

    /// <summary>The share of calls traced when the caller did not decide (a traced caller's calls are always traced).</summary>
    [Range(0.0, 1.0)]
    public double SampleRatio { get; set; } = 1.0;

    [Required]
    public string ServiceName { get; set; } = "loyaltycore";
}
