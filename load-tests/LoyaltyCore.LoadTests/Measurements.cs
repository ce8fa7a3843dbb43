using Grpc.Core;
using HdrHistogram;

namespace LoyaltyCore.LoadTests;

internal static class LatencyHistogram
{
    /// <summary>Three significant digits: a recorded value is within 0.1% of the true one.</summary>
    private const int SignificantDigits = 3;

    /// <summary>Sized to hold anything up to the call deadline (plus slack for the deadline firing late).</summary>
    public static LongHistogram Create(TimeSpan callTimeout) =>
        new(1, (long)(callTimeout.TotalMicroseconds * 2) + 1_000_000, SignificantDigits);

    public static void Record(LongHistogram histogram, TimeSpan latency)
    {
        var micros = Math.Clamp((long)latency.TotalMicroseconds, 1, histogram.HighestTrackableValue);
        histogram.RecordValue(micros);
    }
}

internal static class StatusCodes
{
    /// <summary>OK (0) to UNAUTHENTICATED (16), plus one slot for a code outside the defined range.</summary>
    public const int Count = 18;

    public static int Index(StatusCode code) => code is >= StatusCode.OK and <= StatusCode.Unauthenticated ? (int)code : Count - 1;

    public static string Name(int index) => index < Count - 1 ? ((StatusCode)index).ToString() : "Other";
}
