using System.Diagnostics;
using Grpc.Core;
using HdrHistogram;

namespace LoyaltyCore.LoadTests;

internal static class LatencyHistogram
{
    /// <summary>Three significant digits: a recorded value is within 0.1% of the true one.</summary>
    private const int SignificantDigits = 3;

    /// <summary>
    /// Microseconds up to the call deadline plus the run itself (an open-loop request can wait for its slot that long),
    /// shared by every worker: recording is lock free.
    /// </summary>
    public static LongConcurrentHistogram Create(TimeSpan longest) =>
        new(1, (long)(longest.TotalMicroseconds * 2) + 1_000_000, SignificantDigits);

    /// <summary>Records the time from <paramref name="from"/> to <paramref name="to"/> (<see cref="Stopwatch"/> timestamps).</summary>
    public static void Record(HistogramBase histogram, long from, long to)
    {
        var micros = (to - from) * 1_000_000 / Stopwatch.Frequency;
        histogram.RecordValue(Math.Clamp(micros, 1, histogram.HighestTrackableValue));
    }
}

/// <summary>The run's timeline in <see cref="Stopwatch"/> timestamps: warm-up from Start, measured from MeasureFrom to StopAt.</summary>
internal readonly record struct MeasurementWindow(long Start, long MeasureFrom, long StopAt)
{
    public static MeasurementWindow StartingNow(TimeSpan warmup, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp();
        var measureFrom = start + ToTicks(warmup);
        return new MeasurementWindow(start, measureFrom, measureFrom + ToTicks(duration));
    }

    public bool Contains(long timestamp) => timestamp >= MeasureFrom && timestamp < StopAt;

    public static long ToTicks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    /// <summary>
    /// Waits until <paramref name="timestamp"/>, never returning before it. The timer counts whole milliseconds, so
    /// the wake-up can be a millisecond or two late: good enough for the window's edges. The open loops pace each
    /// request with <see cref="Pacer"/> instead.
    /// </summary>
    public static async Task DelayUntilAsync(long timestamp, CancellationToken cancellationToken)
    {
        long remaining;
        while ((remaining = timestamp - Stopwatch.GetTimestamp()) > 0)
        {
            var milliseconds = Math.Max(1, (int)Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency));
            await Task.Delay(milliseconds, cancellationToken);
        }
    }
}

internal static class StatusCodes
{
    /// <summary>OK (0) to UNAUTHENTICATED (16), plus one slot for a code outside the defined range.</summary>
    public const int Count = 18;

    public static int Index(StatusCode code) => code is >= StatusCode.OK and <= StatusCode.Unauthenticated ? (int)code : Count - 1;

    public static string Name(int index) => index < Count - 1 ? ((StatusCode)index).ToString() : "Other";
}

/// <summary>What one call came back with.</summary>
internal readonly record struct CallOutcome(StatusCode Code, bool Replayed);

/// <summary>
/// Counts of the measured calls, by outcome, shared by every worker (interlocked). An answered call is OK or an
/// expected failure (a redemption beyond the balance); everything else is an error.
/// </summary>
internal sealed class Outcomes
{
    private readonly long[] _errorsByStatus = new long[StatusCodes.Count];
    private long _ok;
    private long _scoresOk;
    private long _redeemsOk;
    private long _insufficientPoints;
    private long _retries;
    private long _replayed;
    private long _notReplayed;
    private long _overflow;
    private long _unanswered;

    /// <summary>Counts a measured call; true when it was answered (its latency belongs in the histogram).</summary>
    public bool Record(CallKind kind, bool isRetry, CallOutcome outcome)
    {
        if (outcome.Code == StatusCode.OK)
        {
            if (isRetry)
            {
                Interlocked.Increment(ref _retries);
                if (!outcome.Replayed)
                {
                    // The server applied a retry a second time (or lost its first answer): never acceptable.
                    Interlocked.Increment(ref _notReplayed);
                    return false;
                }

                Interlocked.Increment(ref _replayed);
            }

            Interlocked.Increment(ref _ok);
            Interlocked.Increment(ref kind == CallKind.Score ? ref _scoresOk : ref _redeemsOk);
            return true;
        }

        if (outcome.Code == StatusCode.FailedPrecondition && kind == CallKind.Redeem)
        {
            Interlocked.Increment(ref _insufficientPoints);
            return true;
        }

        Interlocked.Increment(ref _errorsByStatus[StatusCodes.Index(outcome.Code)]);
        return false;
    }

    /// <summary>An open-loop request that was due while the outstanding bound was reached: not sent.</summary>
    public void RecordOverflow() => Interlocked.Increment(ref _overflow);

    /// <summary>Requests of a stream that ended before answering them.</summary>
    public void RecordUnanswered(long count) => Interlocked.Add(ref _unanswered, count);

    public OutcomeCounts Snapshot()
    {
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var code = 0; code < _errorsByStatus.Length; code++)
        {
            var count = Interlocked.Read(ref _errorsByStatus[code]);
            if (count > 0)
            {
                errors[StatusCodes.Name(code)] = count;
            }
        }

        AddIfAny(errors, "NotReplayed", _notReplayed);
        AddIfAny(errors, "ClientOverflow", _overflow);
        AddIfAny(errors, "StreamEndedUnanswered", _unanswered);
        return new OutcomeCounts(
            Interlocked.Read(ref _ok),
            Interlocked.Read(ref _scoresOk),
            Interlocked.Read(ref _redeemsOk),
            Interlocked.Read(ref _insufficientPoints),
            Interlocked.Read(ref _retries),
            Interlocked.Read(ref _replayed),
            errors);
    }

    private static void AddIfAny(Dictionary<string, long> errors, string name, long count)
    {
        if (count > 0)
        {
            errors[name] = count;
        }
    }
}

/// <param name="Ok">Successful calls (retries included when they were replayed).</param>
/// <param name="InsufficientPoints">Redemptions refused with FAILED_PRECONDITION: the expected outcome for a low balance.</param>
/// <param name="Retries">Retries answered OK; <paramref name="Replayed"/> of them said replayed.</param>
/// <param name="ErrorsByStatus">gRPC status names, plus NotReplayed, ClientOverflow and StreamEndedUnanswered.</param>
internal sealed record OutcomeCounts(
    long Ok,
    long ScoresOk,
    long RedeemsOk,
    long InsufficientPoints,
    long Retries,
    long Replayed,
    IReadOnlyDictionary<string, long> ErrorsByStatus)
{
    public long ExpectedFailures => InsufficientPoints;

    public long Answered => Ok + ExpectedFailures;

    public long Errors => ErrorsByStatus.Values.Sum();

    public long Requests => Answered + Errors;
}
