using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

internal sealed class LoadRun : IDisposable
{
    private readonly LoadOptions _options;
    private readonly GrpcConnections _connections;

    public LoadRun(LoadOptions options)
    {
        _options = options;
        _connections = new GrpcConnections(options);
    }

    /// <summary>Enrols the population; Enroll is idempotent, so members left from an earlier run are simply found.</summary>
    public async Task<EnrolmentResult> EnrollAsync(Catalog catalog, CancellationToken cancellationToken)
    {
        var clients = _connections.Channels.Select(c => new MemberService.MemberServiceClient(c)).ToArray();
        var headers = _connections.Headers;
        var created = 0;
        var started = Stopwatch.GetTimestamp();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.EnrollParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, catalog.MemberIds.Count), parallel, async (i, ct) =>
        {
            var request = new EnrollRequest { MemberId = catalog.MemberIds[i] };
            var options = new CallOptions(headers, DateTime.UtcNow + _options.CallTimeout, ct);
            var response = await clients[i % clients.Length].EnrollAsync(request, options);
            if (response.Created)
            {
                Interlocked.Increment(ref created);
            }
        });

        return new EnrolmentResult(catalog.MemberIds.Count, created, Stopwatch.GetElapsedTime(started));
    }

    public async Task<RunResult> RunAsync(TrafficProfile profile, CancellationToken cancellationToken)
    {
        var window = MeasurementWindow.StartingNow(_options.Warmup, _options.Duration);
        var context = new LoadContext(_options, profile, window, cancellationToken);
        using var probe = new WindowProbe(_options);
        var measuring = probe.MeasureAsync(window, cancellationToken);

        var load = (_options.TargetRpc, _options.Mode) switch
        {
            _ when _options.IsStream => new StreamLoad(context, _connections).RunAsync(),
            (_, LoadMode.Closed) => ClosedUnaryLoad.RunAsync(context, new UnaryInvoker(_connections, _options.TargetRpc, _options.CallTimeout)),
            _ => new OpenUnaryLoad(context, new UnaryInvoker(_connections, _options.TargetRpc, _options.CallTimeout)).RunAsync(),
        };

        try
        {
            await load;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted (Ctrl+C): report what was measured.
        }

        WindowMeasurements? measurements = null;
        try
        {
            measurements = await measuring;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Interrupted before the window ended: no CPU or server figures.
        }

        // Interrupted: the window ends where the run did.
        var measuredUntil = Math.Min(Stopwatch.GetTimestamp(), window.StopAt);
        var measured = measuredUntil > window.MeasureFrom ? Stopwatch.GetElapsedTime(window.MeasureFrom, measuredUntil) : TimeSpan.Zero;
        return new RunResult(measured, context.Outcomes.Snapshot(), context.Latency, context.SendLag, measurements, context.ClientFailure);
    }

    public void Dispose() => _connections.Dispose();
}

internal sealed record EnrolmentResult(int Members, int Created, TimeSpan Elapsed);

internal sealed record RunResult(
    TimeSpan Measured,
    OutcomeCounts Outcomes,
    HistogramBase Latency,
    HistogramBase SendLag,
    WindowMeasurements? Window,
    string? ClientFailure)
{
    /// <summary>Answered calls per second: successes and expected refusals, both full server work.</summary>
    public double Throughput => Measured > TimeSpan.Zero ? Outcomes.Answered / Measured.TotalSeconds : 0;

    public double OkPerSecond => Measured > TimeSpan.Zero ? Outcomes.Ok / Measured.TotalSeconds : 0;

    public static double Milliseconds(HistogramBase histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : histogram.GetValueAtPercentile(percentile) / 1_000.0;

    public static double MaxMilliseconds(HistogramBase histogram) => histogram.TotalCount == 0 ? 0 : histogram.GetMaxValue() / 1_000.0;

    public static double MeanMilliseconds(HistogramBase histogram) => histogram.TotalCount == 0 ? 0 : histogram.GetMean() / 1_000.0;

    /// <summary>CPU milliseconds a process spent per answered call over the window.</summary>
    public double? CpuMsPerCall(double? cpuSeconds) =>
        cpuSeconds is { } seconds && Outcomes.Answered > 0 ? seconds * 1000 / Outcomes.Answered : null;
}
