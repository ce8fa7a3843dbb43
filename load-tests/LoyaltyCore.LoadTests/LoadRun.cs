using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using HdrHistogram;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

internal sealed class LoadRun : IDisposable
{
    private readonly LoadOptions _options;
    private readonly GrpcChannel[] _channels;
    private readonly Metadata _headers;

    public LoadRun(LoadOptions options)
    {
        _options = options;
        _headers = new Metadata { { "authorization", "Bearer " + options.ApiKey } };
        _channels = new GrpcChannel[options.Channels];
        for (var i = 0; i < _channels.Length; i++)
        {
            _channels[i] = GrpcChannel.ForAddress(options.Target, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    // Each channel should be its own connection; it opens more only past the server's stream limit.
                    EnableMultipleHttp2Connections = true,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                },
                DisposeHttpClient = true,
            });
        }
    }

    /// <summary>Enrols the population; Enroll is idempotent, so members left from an earlier run are simply found.</summary>
    public async Task<EnrolmentResult> EnrollAsync(Catalog catalog, CancellationToken cancellationToken)
    {
        var clients = _channels.Select(c => new MemberService.MemberServiceClient(c)).ToArray();
        var created = 0;
        var started = Stopwatch.GetTimestamp();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, catalog.MemberIds.Count), parallel, async (i, ct) =>
        {
            var request = new EnrollRequest { MemberId = catalog.MemberIds[i] };
            var options = new CallOptions(_headers, DateTime.UtcNow + _options.CallTimeout, ct);
            var response = await clients[i % clients.Length].EnrollAsync(request, options);
            if (response.Created)
            {
                Interlocked.Increment(ref created);
            }
        });

        return new EnrolmentResult(catalog.MemberIds.Count, created, Stopwatch.GetElapsedTime(started));
    }

    public async Task<ScoreResult> ScoreAsync(Catalog catalog, CancellationToken cancellationToken)
    {
        var runId = Guid.NewGuid().ToString("N")[..12];
        var clients = _channels.Select(c => new ScoringService.ScoringServiceClient(c)).ToArray();
        var callers = new ScoreCaller[_options.Concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = new ScoreCaller(i, runId, clients[i % clients.Length], catalog, _headers, _options);
        }

        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + ToStopwatchTicks(_options.Warmup);
        var stopAt = measureFrom + ToStopwatchTicks(_options.Duration);

        await Task.WhenAll(callers.Select(c => c.RunAsync(measureFrom, stopAt, cancellationToken)));

        // Interrupted (Ctrl+C): the window ends where the run did.
        var measuredUntil = Math.Min(Stopwatch.GetTimestamp(), stopAt);
        var measured = measuredUntil > measureFrom ? Stopwatch.GetElapsedTime(measureFrom, measuredUntil) : TimeSpan.Zero;

        var latency = LatencyHistogram.Create(_options.CallTimeout);
        var completed = new long[StatusCodes.Count];
        foreach (var caller in callers)
        {
            latency.Add(caller.Latency);
            for (var code = 0; code < completed.Length; code++)
            {
                completed[code] += caller.Completed[code];
            }
        }

        return new ScoreResult(measured, completed, latency);
    }

    public void Dispose()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }
    }

    private static long ToStopwatchTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);
}

internal sealed record EnrolmentResult(int Members, int Created, TimeSpan Elapsed);

internal sealed record ScoreResult(TimeSpan Measured, IReadOnlyList<long> CompletedByStatus, HistogramBase Latency)
{
    public long Requests => CompletedByStatus.Sum();

    public long Succeeded => CompletedByStatus[(int)StatusCode.OK];

    public long Errors => Requests - Succeeded;

    /// <summary>Successful calls per second; failed calls are reported as errors, not as throughput.</summary>
    public double Throughput => Measured > TimeSpan.Zero ? Succeeded / Measured.TotalSeconds : 0;

    public double LatencyMs(double percentile) => Latency.TotalCount == 0 ? 0 : Latency.GetValueAtPercentile(percentile) / 1_000.0;

    public double MaxLatencyMs => Latency.TotalCount == 0 ? 0 : Latency.GetMaxValue() / 1_000.0;
}
