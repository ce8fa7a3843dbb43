using System.Globalization;

namespace LoyaltyCore.LoadTests;

internal sealed class LoadOptions
{
    /// <summary>Read when --api-key is not given, so the key need not appear in the process list.</summary>
    public const string ApiKeyVariable = "LOYALTY_API_KEY";

    public const string Usage = """
        Usage: LoyaltyCore.LoadTests [options]

          --target URL        gRPC endpoint (cleartext HTTP/2)           default http://127.0.0.1:5000
          --api-key KEY       client key of a 'pos' client               default $LOYALTY_API_KEY
          --concurrency N     closed-loop callers                        default 64
          --duration S        measured seconds                           default 20
          --warmup S          seconds run but not measured               default 3
          --members N         member population, enrolled first          default 10000
          --channels N        GrpcChannel instances (HTTP/2 connections) default 4
          --lines N           lines per basket                           default 3
          --timeout S         deadline of each call                      default 10
          --json PATH         also write the results as JSON
        """;

    public Uri Target { get; private set; } = new("http://127.0.0.1:5000");

    public string ApiKey { get; private set; } = string.Empty;

    public int Concurrency { get; private set; } = 64;

    public TimeSpan Duration { get; private set; } = TimeSpan.FromSeconds(20);

    public TimeSpan Warmup { get; private set; } = TimeSpan.FromSeconds(3);

    public int Members { get; private set; } = 10_000;

    public int Channels { get; private set; } = 4;

    public int Lines { get; private set; } = 3;

    public TimeSpan CallTimeout { get; private set; } = TimeSpan.FromSeconds(10);

    public string? JsonPath { get; private set; }

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

        if (options.ApiKey.Length == 0)
        {
            error = $"an API key is required: --api-key or ${ApiKeyVariable}";
            return false;
        }

        return true;
    }

    private string? Apply(string name, string value)
    {
        switch (name)
        {
            case "--target":
                if (!Uri.TryCreate(value, UriKind.Absolute, out var target) || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
                {
                    return $"--target must be an http:// or https:// URL, not '{value}'";
                }

                Target = target;
                return null;
            case "--api-key":
                ApiKey = value;
                return null;
            case "--concurrency":
                return ParseInt(name, value, 1, 100_000, v => Concurrency = v);
            case "--duration":
                return ParseSeconds(name, value, 1, v => Duration = v);
            case "--warmup":
                return ParseSeconds(name, value, 0, v => Warmup = v);
            case "--members":
                return ParseInt(name, value, 1, 100_000_000, v => Members = v);
            case "--channels":
                return ParseInt(name, value, 1, 1_024, v => Channels = v);
            case "--lines":
                return ParseInt(name, value, 1, 200, v => Lines = v);
            case "--timeout":
                return ParseSeconds(name, value, 1, v => CallTimeout = v);
            case "--json":
                JsonPath = value;
                return null;
            default:
                return $"unknown option '{name}'";
        }
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

    private static string? ParseSeconds(string name, string value, int min, Action<TimeSpan> set) =>
        ParseInt(name, value, min, 86_400, seconds => set(TimeSpan.FromSeconds(seconds)));
}
