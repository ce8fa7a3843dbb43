namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>
/// The real clock moved forward by hand: a server given it sees time jump (a hold expire, a day pass) without the
/// test sleeping, while its timers and everything else keep running on real time.
/// </summary>
public sealed class ShiftableClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
