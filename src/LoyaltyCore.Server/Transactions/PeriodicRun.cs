namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// A background run that every server may do at an interval (birthday rewards, hold expiry): each is exactly-once
/// per member by its transaction ids, so a failed run is simply done again at the next tick.
/// </summary>
internal abstract partial class PeriodicRun(TimeProvider time, ILogger logger) : BackgroundService
{
    protected abstract bool Enabled { get; }

    protected abstract TimeSpan Interval { get; }

    /// <summary>The run's name in its log messages.</summary>
    protected abstract string Name { get; }

    protected abstract Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await RunOnceAsync(time.GetUtcNow(), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Whatever was applied stays applied; the next run replays it and goes on with the rest.
                LogRunFailed(logger, ex, Name);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Run} failed; it is retried at the next interval")]
    private static partial void LogRunFailed(ILogger logger, Exception exception, string run);
}
