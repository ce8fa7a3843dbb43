using System.Diagnostics;
using System.Runtime.InteropServices;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// Holds a dedicated thread until a <see cref="Stopwatch"/> timestamp. A timer (Task.Delay) counts whole milliseconds
/// and resumes on the thread pool, so an open loop paced by it sends each request 1-2 ms after its scheduled time and
/// reports that lag as latency. On Linux, Stopwatch timestamps are CLOCK_MONOTONIC nanoseconds, and clock_nanosleep
/// on that clock wakes within tens of microseconds of the due time, without spinning.
/// </summary>
internal static partial class Pacer
{
    private const int ClockMonotonic = 1;
    private const int TimerAbsoluteTime = 1;
    private const int Interrupted = 4;
    private const long NanosecondsPerSecond = 1_000_000_000;

    private static readonly bool Precise = OperatingSystem.IsLinux() && Stopwatch.Frequency == NanosecondsPerSecond && SharesStopwatchClock();

    /// <summary>Whether waits are precise; otherwise they fall back to whole-millisecond sleeps.</summary>
    public static bool IsPrecise => Precise;

    /// <summary>
    /// An open loop's schedule at <paramref name="rate"/> requests per second from the window's start to its end:
    /// yields each request's due time once it has come, blocking the calling thread in between.
    /// </summary>
    public static IEnumerable<long> Schedule(MeasurementWindow window, double rate, CancellationToken cancellationToken)
    {
        var interval = Stopwatch.Frequency / rate;
        for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
        {
            var due = window.Start + (long)(n * interval);
            if (due >= window.StopAt)
            {
                yield break;
            }

            SleepUntil(due);
            yield return due;
        }
    }

    /// <summary>Blocks the calling thread until <paramref name="timestamp"/>, never returning before it.</summary>
    public static void SleepUntil(long timestamp)
    {
        if (Precise)
        {
            var until = new Timespec(timestamp / NanosecondsPerSecond, timestamp % NanosecondsPerSecond);
            while (ClockNanosleep(ClockMonotonic, TimerAbsoluteTime, in until, IntPtr.Zero) == Interrupted)
            {
            }

            return;
        }

        long remaining;
        while ((remaining = timestamp - Stopwatch.GetTimestamp()) > 0)
        {
            Thread.Sleep(Math.Max(1, (int)(remaining * 1000 / Stopwatch.Frequency)));
        }
    }

    /// <summary>Checked rather than assumed: the absolute deadline is only right if both read the same clock.</summary>
    private static bool SharesStopwatchClock()
    {
        try
        {
            var before = Stopwatch.GetTimestamp();
            if (ClockGettime(ClockMonotonic, out var now) != 0)
            {
                return false;
            }

            // Bracketed, not compared within a tolerance: the first native call can take milliseconds to bind.
            var after = Stopwatch.GetTimestamp();
            var monotonic = (now.Seconds * NanosecondsPerSecond) + now.Nanoseconds;
            return monotonic >= before && monotonic <= after;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, in Timespec request, IntPtr remaining);

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGettime(int clock, out Timespec time);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct Timespec(long Seconds, long Nanoseconds);
}
