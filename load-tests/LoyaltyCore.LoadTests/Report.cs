using System.Globalization;
using System.Text;
using System.Text.Json;
using HdrHistogram;

namespace LoyaltyCore.LoadTests;

internal static class Report
{
    private static readonly (string Name, double Percentile)[] Percentiles =
        [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)];

    public static string ToText(LoadOptions options, EnrolmentResult? enrolment, RunResult result)
    {
        var c = CultureInfo.InvariantCulture;
        var o = result.Outcomes;
        var text = new StringBuilder();
        if (options.Label is not null)
        {
            text.AppendLine(c, $"run          {options.Label}");
        }

        text.AppendLine(c, $"target       {options.Target} {RpcName(options)}")
            .AppendLine(c, $"load         {Describe(options)}")
            .AppendLine(c, $"traffic      {Traffic(options)}");
        if (enrolment is not null)
        {
            text.AppendLine(c, $"members      {enrolment.Members} ({enrolment.Created} newly enrolled in {enrolment.Elapsed.TotalSeconds:0.0} s)");
        }

        text.AppendLine(c, $"window       {result.Measured.TotalSeconds:0.00} s measured after {options.Warmup.TotalSeconds:0} s warm-up")
            .AppendLine(c, $"requests     {o.Requests}")
            .AppendLine(c, $"ok           {o.Ok} ({o.ScoresOk} score, {o.RedeemsOk} redeem; {o.Replayed} of {o.Retries} retries replayed)")
            .AppendLine(c, $"expected     {o.ExpectedFailures} (redemptions beyond the balance: FAILED_PRECONDITION)")
            .AppendLine(c, $"errors       {o.Errors}");
        foreach (var (status, count) in o.ErrorsByStatus)
        {
            text.AppendLine(c, $"  {status,-22} {count}");
        }

        if (result.ClientFailure is not null)
        {
            text.AppendLine(c, $"  first client failure: {result.ClientFailure}");
        }

        text.AppendLine(c, $"throughput   {result.Throughput:0.0} answered/s ({result.OkPerSecond:0.0} ok/s)")
            .AppendLine(c, $"latency (ms, answered calls, from {(options.Mode == LoadMode.Open ? "the scheduled send time" : "the send")})");
        foreach (var (name, percentile) in Percentiles)
        {
            text.AppendLine(c, $"  {name,-6} {RunResult.Milliseconds(result.Latency, percentile),9:0.000}");
        }

        text.AppendLine(c, $"  {"max",-6} {RunResult.MaxMilliseconds(result.Latency),9:0.000}");
        if (options.Mode == LoadMode.Open)
        {
            text.AppendLine(c, $"send lag (ms) p50 {RunResult.Milliseconds(result.SendLag, 50):0.000}  p99 {RunResult.Milliseconds(result.SendLag, 99):0.000}  max {RunResult.MaxMilliseconds(result.SendLag):0.000}");
        }

        if (result.Window is { } window)
        {
            AppendWindow(text, result, window);
        }

        return text.ToString();
    }

    public static async Task WriteJsonAsync(string path, LoadOptions options, EnrolmentResult? enrolment, RunResult result, CancellationToken cancellationToken)
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
                WriteJson(json, options, enrolment, result);
                await json.FlushAsync(cancellationToken);
            }
        }
    }

    private static void WriteJson(Utf8JsonWriter json, LoadOptions options, EnrolmentResult? enrolment, RunResult result)
    {
        var o = result.Outcomes;
        json.WriteStartObject();
        if (options.Label is not null)
        {
            json.WriteString("label", options.Label);
        }

        json.WriteString("timestamp", DateTimeOffset.UtcNow);
        json.WriteString("target", options.Target.ToString());
        json.WriteString("targetRpc", options.TargetRpc.ToString().ToLowerInvariant());
        json.WriteString("mode", options.Mode.ToString().ToLowerInvariant());
        if (options.Mode == LoadMode.Open)
        {
            json.WriteNumber("rate", options.Rate);
            json.WriteNumber("maxOutstanding", options.MaxOutstanding);
        }

        if (options.IsStream)
        {
            json.WriteNumber("streams", options.Streams);
            json.WriteNumber("streamWindow", options.StreamWindow);
        }
        else if (options.Mode == LoadMode.Closed)
        {
            json.WriteNumber("concurrency", options.Concurrency);
        }

        json.WriteNumber("channels", options.Channels);
        json.WriteNumber("members", options.Members);
        if (enrolment is not null)
        {
            json.WriteNumber("membersCreated", enrolment.Created);
        }

        json.WriteNumber("zipfS", options.ZipfExponent);
        json.WriteString("basket", options.Basket.ToString().ToLowerInvariant());
        json.WriteNumber("maxLines", options.MaxLines);
        json.WriteNumber("redeemShare", options.EffectiveRedeemShare);
        json.WriteNumber("retryShare", options.EffectiveRetryShare);
        json.WriteNumber("warmupSeconds", options.Warmup.TotalSeconds);
        json.WriteNumber("durationSeconds", Math.Round(result.Measured.TotalSeconds, 3));

        json.WriteNumber("requests", o.Requests);
        json.WriteNumber("ok", o.Ok);
        json.WriteNumber("scoresOk", o.ScoresOk);
        json.WriteNumber("redeemsOk", o.RedeemsOk);
        json.WriteNumber("retries", o.Retries);
        json.WriteNumber("replayed", o.Replayed);
        json.WriteNumber("expectedFailures", o.ExpectedFailures);
        json.WriteStartObject("expectedFailuresByKind");
        json.WriteNumber("insufficientPoints", o.InsufficientPoints);
        json.WriteEndObject();
        json.WriteNumber("errors", o.Errors);
        json.WriteStartObject("errorsByStatus");
        foreach (var (status, count) in o.ErrorsByStatus)
        {
            json.WriteNumber(status, count);
        }

        json.WriteEndObject();
        if (result.ClientFailure is not null)
        {
            json.WriteString("clientFailure", result.ClientFailure);
        }

        json.WriteNumber("throughputPerSecond", Math.Round(result.Throughput, 1));
        json.WriteNumber("okPerSecond", Math.Round(result.OkPerSecond, 1));
        WriteLatency(json, "latencyMs", result.Latency);
        if (options.Mode == LoadMode.Open)
        {
            WriteLatency(json, "sendLagMs", result.SendLag);
        }

        if (result.Window is { } window)
        {
            WriteWindow(json, result, window);
        }

        json.WriteEndObject();
    }

    private static void WriteLatency(Utf8JsonWriter json, string name, HistogramBase histogram)
    {
        json.WriteStartObject(name);
        foreach (var (label, percentile) in Percentiles)
        {
            json.WriteNumber(label, RunResult.Milliseconds(histogram, percentile));
        }

        json.WriteNumber("max", RunResult.MaxMilliseconds(histogram));
        json.WriteNumber("mean", Math.Round(RunResult.MeanMilliseconds(histogram), 3));
        json.WriteEndObject();
    }

    private static void WriteWindow(Utf8JsonWriter json, RunResult result, WindowMeasurements window)
    {
        json.WriteStartObject("cpu");
        json.WriteNumber("windowSeconds", Math.Round(window.Seconds, 3));
        json.WriteStartObject("processes");
        foreach (var (name, seconds) in window.ProcessCpuSeconds)
        {
            json.WriteStartObject(name);
            WriteNullable(json, "seconds", seconds, 3);
            WriteNullable(json, "msPerRequest", result.CpuMsPerCall(seconds), 4);
            if (window.ContextSwitches.GetValueOrDefault(name) is { } switches)
            {
                json.WriteNumber("contextSwitches", switches);
                WriteNullable(json, "contextSwitchesPerRequest", result.Outcomes.Answered > 0 ? (double)switches / result.Outcomes.Answered : null, 3);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        if (window.Machine is { } machine)
        {
            json.WriteStartObject("machine");
            json.WriteNumber("cores", machine.Cores);
            json.WriteNumber("busySeconds", Math.Round(machine.BusySeconds, 3));
            json.WriteNumber("utilisation", Math.Round(machine.Utilisation, 4));
            WriteNullable(json, "msPerRequest", result.CpuMsPerCall(machine.BusySeconds), 4);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        if (window.Server is not { } server)
        {
            return;
        }

        json.WriteStartObject("server");
        json.WriteStartObject("ledger");
        json.WriteNumber("commits", server.LedgerCommits);
        json.WriteNumber("rows", server.LedgerRows);
        WriteNullable(json, "rowsPerCommit", server.RowsPerCommit, 2);
        json.WriteNumber("commitFailures", server.LedgerCommitFailures);
        WriteServerLatency(json, "commitMs", server.LedgerCommit);
        WriteGauge(json, "queueDepth", server.LedgerQueueDepth);
        json.WriteEndObject();
        WriteServerLatency(json, "redisApplyMs", server.RedisApply);
        WriteNullable(json, "redisApplyCallsPerRequest", server.RedisApply is { } apply && result.Outcomes.Answered > 0 ? (double)apply.Count / result.Outcomes.Answered : null, 3);
        WriteNullable(json, "ledgerCommitsPerRequest", result.Outcomes.Answered > 0 ? (double)server.LedgerCommits / result.Outcomes.Answered : null, 3);
        WriteServerLatency(json, "redisLoadMs", server.RedisLoad);
        WriteServerLatency(json, "postgresOperationMs", server.PostgresOperations);
        json.WriteStartObject("grpcMs");
        foreach (var (method, latency) in server.GrpcByMethod)
        {
            WriteServerLatency(json, method, latency);
        }

        json.WriteEndObject();
        json.WriteStartObject("runtime");
        json.WriteNumber("gen0Collections", server.Gen0Collections);
        json.WriteNumber("gen1Collections", server.Gen1Collections);
        json.WriteNumber("gen2Collections", server.Gen2Collections);
        json.WriteNumber("allocatedMBPerSecond", Math.Round(server.AllocatedBytes / 1e6 / window.Seconds, 1));
        WriteNullable(json, "allocatedBytesPerRequest", result.Outcomes.Answered > 0 ? server.AllocatedBytes / result.Outcomes.Answered : null, 0);
        json.WriteNumber("gcPauseMs", Math.Round(server.GcPauseSeconds * 1000, 1));
        json.WriteNumber("lockContentions", server.LockContentions);
        json.WriteNumber("jitSeconds", Math.Round(server.JitSeconds, 3));
        json.WriteNumber("jitMethods", server.JitMethods);
        json.WriteNumber("threadPoolWorkItems", server.ThreadPoolWorkItems);
        WriteNullable(json, "threadPoolWorkItemsPerRequest", result.Outcomes.Answered > 0 ? (double)server.ThreadPoolWorkItems / result.Outcomes.Answered : null, 2);
        WriteGauge(json, "threadPoolQueueLength", server.ThreadPoolQueueLength);
        WriteGauge(json, "threadPoolThreads", server.ThreadPoolThreads);
        json.WriteEndObject();
        json.WriteNumber("stateConflicts", server.StateConflicts);
        json.WriteNumber("replays", server.Replays);
        json.WriteEndObject();
    }

    private static void WriteServerLatency(Utf8JsonWriter json, string name, ServerLatency? latency)
    {
        if (latency is null)
        {
            return;
        }

        json.WriteStartObject(name);
        json.WriteNumber("count", latency.Count);
        WriteNumber(json, "mean", latency.MeanMs, 3);
        WriteNumber(json, "p50", latency.P50Ms, 3);
        WriteNumber(json, "p90", latency.P90Ms, 3);
        WriteNumber(json, "p99", latency.P99Ms, 3);
        json.WriteEndObject();
    }

    private static void WriteGauge(Utf8JsonWriter json, string name, GaugeReads? gauge)
    {
        if (gauge is null)
        {
            return;
        }

        json.WriteStartObject(name);
        WriteNumber(json, "mean", gauge.Mean, 1);
        WriteNumber(json, "max", gauge.Max, 1);
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, double? value, int digits)
    {
        if (value is { } v)
        {
            WriteNumber(json, name, v, digits);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteNumber(Utf8JsonWriter json, string name, double value, int digits)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, digits));
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void AppendWindow(StringBuilder text, RunResult result, WindowMeasurements window)
    {
        var c = CultureInfo.InvariantCulture;
        text.AppendLine(c, $"cpu over the window ({window.Seconds:0.0} s): seconds, ms per answered call");
        foreach (var (name, seconds) in window.ProcessCpuSeconds)
        {
            text.AppendLine(c, $"  {name,-10} {Format(seconds, "0.00"),8} {Format(result.CpuMsPerCall(seconds), "0.000"),8}");
        }

        if (window.Machine is { } machine)
        {
            text.AppendLine(c, $"  {"machine",-10} {machine.BusySeconds,8:0.00} {Format(result.CpuMsPerCall(machine.BusySeconds), "0.000"),8}  ({machine.Utilisation:P0} of {machine.Cores} cores)");
        }

        if (window.Server is not { } server)
        {
            return;
        }

        text.AppendLine(c, $"server       rows per commit {Format(server.RowsPerCommit, "0.00")} ({server.LedgerRows} rows, {server.LedgerCommits} commits)");
        if (server.LedgerCommit is { } commit)
        {
            text.AppendLine(c, $"  ledger commit ms  mean {commit.MeanMs:0.000}  p50 {commit.P50Ms:0.000}  p99 {commit.P99Ms:0.000}");
        }

        if (server.RedisApply is { } apply)
        {
            text.AppendLine(c, $"  redis apply ms    mean {apply.MeanMs:0.000}  p50 {apply.P50Ms:0.000}  p99 {apply.P99Ms:0.000}");
        }

        foreach (var (method, latency) in server.GrpcByMethod)
        {
            text.AppendLine(c, $"  {method + " ms",-17} mean {latency.MeanMs:0.000}  p50 {latency.P50Ms:0.000}  p99 {latency.P99Ms:0.000}  ({latency.Count} calls)");
        }

        var answered = Math.Max(1, result.Outcomes.Answered);
        text.AppendLine(c, $"  gc {server.Gen0Collections}/{server.Gen1Collections}/{server.Gen2Collections} (gen0/1/2), allocated {server.AllocatedBytes / 1e6 / window.Seconds:0.0} MB/s ({server.AllocatedBytes / answered:0} B per call), pause {server.GcPauseSeconds * 1000:0.0} ms; jit {server.JitMethods} methods, {server.JitSeconds:0.00} s")
            .AppendLine(c, $"  thread pool: {server.ThreadPoolWorkItems / (double)answered:0.0} work items per call, queue mean {Format(server.ThreadPoolQueueLength?.Mean, "0.0")} max {Format(server.ThreadPoolQueueLength?.Max, "0")}, lock contentions {server.LockContentions}");
    }

    private static string Format(double? value, string format) =>
        value is { } v && double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "-";

    private static string RpcName(LoadOptions options) => options.TargetRpc switch
    {
        TargetRpc.Echo => "EchoService.Echo",
        TargetRpc.EchoRedis => "EchoService.EchoRedis",
        TargetRpc.EchoLedger => "EchoService.EchoLedger",
        TargetRpc.EchoDurable => "EchoService.EchoDurable",
        TargetRpc.Stream => "ScoringService.ScoreStream",
        TargetRpc.EchoStream => "EchoService.EchoStream",
        TargetRpc.EchoDurableStream => "EchoService.EchoDurableStream",
        _ => "ScoringService.Score + Redeem",
    };

    private static string Describe(LoadOptions options)
    {
        var c = CultureInfo.InvariantCulture;
        var shape = options.IsStream
            ? string.Create(c, $"{options.Streams} streams x window {options.StreamWindow}")
            : string.Create(c, $"{options.Concurrency} callers");
        return options.Mode == LoadMode.Open
            ? string.Create(c, $"open loop at {options.Rate:0.#} req/s (at most {(options.IsStream ? options.Streams * options.StreamWindow : options.MaxOutstanding)} outstanding) on {options.Channels} channels, paced by {(Pacer.IsPrecise ? "clock_nanosleep" : "a millisecond timer")}")
            : string.Create(c, $"closed loop, {shape} on {options.Channels} channels");
    }

    private static string Traffic(LoadOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"zipf s={options.ZipfExponent:0.##} over {options.Members} members, {options.Basket.ToString().ToLowerInvariant()} baskets of 1-{options.MaxLines} lines, redeem {options.EffectiveRedeemShare:P0}, retry {options.EffectiveRetryShare:P0}, store/web/app 60/25/15");
}
