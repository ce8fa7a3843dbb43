using HdrHistogram;

namespace LoyaltyCore.LoadTests;

/// <summary>What every driver of one run shares: its settings, traffic, window and what it measures.</summary>
internal sealed class LoadContext(LoadOptions options, TrafficProfile profile, MeasurementWindow window, CancellationToken cancellationToken)
{
    private string? _clientFailure;

    public LoadOptions Options { get; } = options;

    public TrafficProfile Profile { get; } = profile;

    public MeasurementWindow Window { get; } = window;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public Outcomes Outcomes { get; } = new();

    /// <summary>Answered measured calls, in microseconds: from the send (closed loop) or the scheduled time (open loop).</summary>
    public LongConcurrentHistogram Latency { get; } = LatencyHistogram.Create(options.CallTimeout + options.Duration);

    /// <summary>Open loop: how late each measured request was actually sent after its scheduled time.</summary>
    public LongConcurrentHistogram SendLag { get; } = LatencyHistogram.Create(options.CallTimeout + options.Duration);

    /// <summary>The first failure of the generator itself (not a gRPC status), for the report.</summary>
    public string? ClientFailure => Volatile.Read(ref _clientFailure);

    public void RecordClientFailure(Exception exception) =>
        Interlocked.CompareExchange(ref _clientFailure, exception.GetType().Name + ": " + exception.Message, null);
}
