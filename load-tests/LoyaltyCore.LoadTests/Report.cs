using System.Globalization;
using System.Text;
using System.Text.Json;

namespace LoyaltyCore.LoadTests;

internal static class Report
{
    private static readonly (string Name, double Percentile)[] Percentiles =
        [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    public static string ToText(LoadOptions options, EnrolmentResult enrolment, ScoreResult result)
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"target       {options.Target}")
            .AppendLine(c, $"load         {options.Concurrency} callers on {options.Channels} channels, {options.Lines} lines per basket, {enrolment.Members} members ({enrolment.Created} newly enrolled in {enrolment.Elapsed.TotalSeconds:0.0} s)")
            .AppendLine(c, $"window       {result.Measured.TotalSeconds:0.00} s measured after {options.Warmup.TotalSeconds:0} s warm-up")
            .AppendLine(c, $"requests     {result.Requests}")
            .AppendLine(c, $"errors       {result.Errors}");
        for (var code = 0; code < result.CompletedByStatus.Count; code++)
        {
            if (code != 0 && result.CompletedByStatus[code] > 0)
            {
                text.AppendLine(c, $"  {StatusCodes.Name(code),-18} {result.CompletedByStatus[code]}");
            }
        }

        text.AppendLine(c, $"throughput   {result.Throughput:0.0} req/s (successful calls)")
            .AppendLine("latency (ms, successful calls)");
        foreach (var (name, percentile) in Percentiles)
        {
            text.AppendLine(c, $"  {name,-6} {result.LatencyMs(percentile),9:0.000}");
        }

        text.AppendLine(c, $"  {"max",-6} {result.MaxLatencyMs,9:0.000}");
        return text.ToString();
    }

    public static async Task WriteJsonAsync(string path, LoadOptions options, EnrolmentResult enrolment, ScoreResult result, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var file = File.Create(path);
        await using (file)
        {
            var json = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
            await using (json)
            {
                json.WriteStartObject();
                json.WriteString("timestamp", DateTimeOffset.UtcNow);
                json.WriteString("target", options.Target.ToString());
                json.WriteNumber("concurrency", options.Concurrency);
                json.WriteNumber("channels", options.Channels);
                json.WriteNumber("lines", options.Lines);
                json.WriteNumber("members", enrolment.Members);
                json.WriteNumber("membersCreated", enrolment.Created);
                json.WriteNumber("warmupSeconds", options.Warmup.TotalSeconds);
                json.WriteNumber("durationSeconds", Math.Round(result.Measured.TotalSeconds, 3));
                json.WriteNumber("requests", result.Requests);
                json.WriteNumber("errors", result.Errors);
                json.WriteStartObject("errorsByStatus");
                for (var code = 1; code < result.CompletedByStatus.Count; code++)
                {
                    if (result.CompletedByStatus[code] > 0)
                    {
                        json.WriteNumber(StatusCodes.Name(code), result.CompletedByStatus[code]);
                    }
                }

                json.WriteEndObject();
                json.WriteNumber("throughputPerSecond", Math.Round(result.Throughput, 1));
                json.WriteStartObject("latencyMs");
                foreach (var (name, percentile) in Percentiles)
                {
                    json.WriteNumber(name, result.LatencyMs(percentile));
                }

                json.WriteNumber("max", result.MaxLatencyMs);
                json.WriteEndObject();
                json.WriteEndObject();
                await json.FlushAsync(cancellationToken);
            }
        }
    }
}
