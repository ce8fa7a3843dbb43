using System.Globalization;

namespace LoyaltyCore.LoadTests;

internal enum LoadMode
{
    /// <summary>N callers, each sending its next request as soon as the previous one is answered.</summary>
    Closed,

    /// <summary>Requests at a constant rate, each at its scheduled time whatever is still outstanding.</summary>
    Open,
}

internal enum TargetRpc
{
    Score,
    Stream,
    Echo,

    /// <summary>EchoService.EchoRedis: the echo plus the floor's Redis write.</summary>
    EchoRedis,

    /// <summary>EchoService.EchoLedger: the echo plus the floor's durable ledger write.</summary>
    EchoLedger,

    /// <summary>EchoService.EchoDurable: the echo plus both, the floor under a durable answer.</summary>
    EchoDurable,

    /// <summary>EchoService.EchoStream: streams answered in order with no work, the streaming transport alone.</summary>
    EchoStream,

    /// <summary>EchoService.EchoDurableStream: streams doing EchoDurable's writes, the floor under ScoreStream.</summary>
    EchoDurableStream,
}

internal enum BasketShape
{
    /// <summary>1 to max lines, each size equally likely.</summary>
    Uniform,

    /// <summary>Mostly small baskets: size k has weight 0.75^(k-1) (mean about 4 lines).</summary>
    Small,
}

/// <summary>A process whose CPU time is measured over the window: its own plus its living children's.</summary>
internal sealed record SampledProcess(string Name, int Pid);

internal sealed class LoadOptions
{
    /// <summary>Read when --api-key is not given, so the key need not appear in the process list.</summary>
    public const string ApiKeyVariable = "LOYALTY_API_KEY";

    public const string Usage = """
        Usage: LoyaltyCore.LoadTests [options]

          --target URL            gRPC endpoint (cleartext HTTP/2)                      default http://127.0.0.1:5000
          --api-key KEY           client key of a 'pos' client                          default $LOYALTY_API_KEY
          --mode closed|open      closed: callers send as fast as answered; open: a fixed
                                  arrival rate, latency from each request's scheduled time   default closed
          --rate R                open loop: requests per second                        required with --mode open
          --max-outstanding N     open loop: requests in flight at most; a request due when
                                  N are outstanding is not sent and counts as an error  default 2048
          --target-rpc RPC        score (unary Score + Redeem), stream (ScoreStream),
                                  echo (EchoService.Echo, the transport alone), or the
                                  floor under a durable answer: echoredis, echoledger,
                                  echodurable (EchoService.EchoRedis/EchoLedger/...),
                                  and for streams echostream, echodurablestream         default score
          --concurrency N         closed loop: unary callers                            default 64
          --streams S             stream: concurrent ScoreStream calls                  default 4
          --stream-window W       stream: requests outstanding per stream at most       default 64
          --duration S            measured seconds                                      default 20
          --warmup S              seconds run before the measured window                default 3
          --members N             member population (Zipf over it), enrolled first      default 10000
          --zipf-s S              Zipf exponent of member popularity (0 = uniform)      default 1.0
          --basket small|uniform  basket sizes from 1 to --max-lines                    default small
          --max-lines N           largest basket                                        default 20
          --redeem-share F        share of Redeem calls (score only)                    default 0.05
          --retry-share F         share of retries of an earlier answered request       default 0.02
          --channels N            GrpcChannel instances (HTTP/2 connections)            default 4
          --enroll-parallelism N  concurrent Enroll calls                               default 32
          --skip-enroll           the population is already enrolled
          --timeout S             deadline of each unary call                           default 10
          --label NAME            name of the run in the report and JSON
          --sample-pid NAME=PID   also measure this process's CPU over the window (repeatable)
          --metrics-url URL       server's Prometheus endpoint: its counters over the window
          --json PATH             also write the results as JSON
        """;

    private readonly List<SampledProcess> _sampled = [];

    public Uri Target { get; private set; } = new("http://127.0.0.1:5000");

    public string ApiKey { get; private set; } = string.Empty;

    public LoadMode Mode { get; private set; } = LoadMode.Closed;

    public double Rate { get; private set; }

    public int MaxOutstanding { get; private set; } = 2048;

    public TargetRpc TargetRpc { get; private set; } = TargetRpc.Score;

    public int Concurrency { get; private set; } = 64;

    public int Streams { get; private set; } = 4;

    public int StreamWindow { get; private set; } = 64;

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(20);

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(3);

    public int Members { get; private set; } = 10_000;

    public double ZipfExponent { get; private set; } = 1.0;

    public BasketShape Basket { get; private set; } = BasketShape.Small;

    public int MaxLines { get; private set; } = 20;

    public double RedeemShare { get; private set; } = 0.05;

    public double RetryShare { get; private set; } = 0.02;

    public int Channels { get; private set; } = 4;

    public int EnrollParallelism { get; private set; } = 32;

    public bool SkipEnroll { get; private set; }

    public TimeSpan CallTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    public string? Label { get; private set; }

    public IReadOnlyList<SampledProcess> SampledProcesses => _sampled;

    public Uri? MetricsUrl { get; private set; }

    public string? JsonPath { get; private set; }

    /// <summary>Redeem calls only go through unary scoring: ScoreStream and Echo carry purchases.</summary>
    public double EffectiveRedeemShare => TargetRpc == TargetRpc.Score ? RedeemShare : 0;

    /// <summary>Echo answers everything afresh, so a retry would prove nothing there.</summary>
    public double EffectiveRetryShare => IsEcho ? 0 : RetryShare;

    public bool NeedsMembers => !IsEcho;

    /// <summary>One of EchoService's calls: no scoring, every answer afresh.</summary>
    public bool IsEcho => TargetRpc is TargetRpc.Echo or TargetRpc.EchoRedis or TargetRpc.EchoLedger or TargetRpc.EchoDurable
        or TargetRpc.EchoStream or TargetRpc.EchoDurableStream;

    /// <summary>A streaming call: ScoreStream or one of EchoService's streams.</summary>
    public bool IsStream => TargetRpc is TargetRpc.Stream or TargetRpc.EchoStream or TargetRpc.EchoDurableStream;

    /// <summary>Parses <c>--name value</c> and <c>--name=value</c>; a later occurrence overrides an earlier one.</summary>
    public static bool TryParse(IReadOnlyList<string> args, out LoadOptions options, out string? error)
    {
        options = new LoadOptions { ApiKey = Environment.GetEnvironmentVariable(ApiKeyVariable) ?? string.Empty };
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                error = string.Empty;
                return false;
            }

            if (arg == "--skip-enroll")
            {
                options.SkipEnroll = true;
                continue;
            }

            string name;
            string? value;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                value = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
                value = i + 1 < args.Count ? args[++i] : null;
            }

            if (value is null)
            {
                error = $"{name} needs a value";
                return false;
            }

            error = options.Apply(name, value);
            if (error is not null)
            {
                return false;
            }
        }

        error = options.Check();
        return error is null;
    }

    private string? Check()
    {
        if (ApiKey.Length == 0)
        {
            return $"an API key is required: --api-key or ${ApiKeyVariable}";
        }

        if (Mode == LoadMode.Open && Rate <= 0)
        {
            return "--mode open needs --rate";
        }

        if (RedeemShare + RetryShare >= 1)
        {
            return "--redeem-share and --retry-share must add up to less than 1";
        }

        return null;
    }

    private string? Apply(string name, string value)
    {
        switch (name)
        {
            case "--target":
                if (!TryParseHttpUrl(value, out var target))
                {
                    return $"--target must be an http:// or https:// URL, not '{value}'";
                }

                Target = target;
                return null;
            case "--api-key":
                ApiKey = value;
                return null;
            case "--mode":
                return ParseEnum<LoadMode>(name, value, v => Mode = v);
            case "--rate":
                return ParseDouble(name, value, 0.001, 10_000_000, v => Rate = v);
            case "--max-outstanding":
                return ParseInt(name, value, 1, 1_000_000, v => MaxOutstanding = v);
            case "--target-rpc":
                return ParseEnum<TargetRpc>(name, value, v => TargetRpc = v);
            case "--concurrency":
                return ParseInt(name, value, 1, 100_000, v => Concurrency = v);
            case "--streams":
                return ParseInt(name, value, 1, 10_000, v => Streams = v);
            case "--stream-window":
                return ParseInt(name, value, 1, 100_000, v => StreamWindow = v);
            case "--duration":
                return ParseSeconds(name, value, 1, v => Duration = v);
            case "--warmup":
                return ParseSeconds(name, value, 0, v => Warmup = v);
            case "--members":
                return ParseInt(name, value, 1, 10_000_000, v => Members = v);
            case "--zipf-s":
                return ParseDouble(name, value, 0, 10, v => ZipfExponent = v);
            case "--basket":
                return ParseEnum<BasketShape>(name, value, v => Basket = v);
            case "--max-lines":
                return ParseInt(name, value, 1, 200, v => MaxLines = v);
            case "--redeem-share":
                return ParseDouble(name, value, 0, 0.9, v => RedeemShare = v);
            case "--retry-share":
                return ParseDouble(name, value, 0, 0.9, v => RetryShare = v);
            case "--channels":
                return ParseInt(name, value, 1, 1_024, v => Channels = v);
            case "--enroll-parallelism":
                return ParseInt(name, value, 1, 10_000, v => EnrollParallelism = v);
            case "--timeout":
                return ParseSeconds(name, value, 1, v => CallTimeout = v);
            case "--label":
                Label = value;
                return null;
            case "--sample-pid":
                return ParseSampledProcess(value);
            case "--metrics-url":
                if (!TryParseHttpUrl(value, out var metrics))
                {
                    return $"--metrics-url must be an http:// or https:// URL, not '{value}'";
                }

                MetricsUrl = metrics;
                return null;
            case "--json":
                JsonPath = value;
                return null;
            default:
                return $"unknown option '{name}'";
        }
    }

    private string? ParseSampledProcess(string value)
    {
        var equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || !int.TryParse(value.AsSpan(equals + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
        {
            return $"--sample-pid must be NAME=PID, not '{value}'";
        }

        _sampled.Add(new SampledProcess(value[..equals], pid));
        return null;
    }

    private static bool TryParseHttpUrl(string value, out Uri url) =>
        Uri.TryCreate(value, UriKind.Absolute, out url!) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    private static string? ParseEnum<T>(string name, string value, Action<T> set)
        where T : struct, Enum
    {
        if (value.Length == 0 || !char.IsLetter(value[0])
            || !Enum.TryParse<T>(value.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var parsed))
        {
            return $"{name} must be one of {string.Join(", ", Enum.GetNames<T>()).ToLowerInvariant()}, not '{value}'";
        }

        set(parsed);
        return null;
    }

    private static string? ParseInt(string name, string value, int min, int max, Action<int> set)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            return $"{name} must be a whole number from {min} to {max}, not '{value}'";
        }

        set(parsed);
        return null;
    }

    private static string? ParseDouble(string name, string value, double min, double max, Action<double> set)
    {
        if (!double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var parsed) || parsed < min || parsed > max)
        {
            return $"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not '{value}'";
        }

        set(parsed);
        return null;
    }

    private static string? ParseSeconds(string name, string value, int min, Action<TimeSpan> set) =>
        ParseInt(name, value, min, 86_400, seconds => set(TimeSpan.FromSeconds(seconds)));
}
