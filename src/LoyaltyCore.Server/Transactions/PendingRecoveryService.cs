using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Programs;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Periodically commits ledger entries that Redis applied but no request saw committed: the process died between
/// the two, or the ledger was down. Until then a retry of such a transaction commits it itself.
/// </summary>
internal sealed partial class PendingRecoveryService(
    HotStateStore hotState,
    MemberDirectory members,
    TransactionPipeline processor,
    ProgramProvider programs,
    IOptions<HotStateOptions> options,
    Observability.LoyaltyMetrics metrics,
    ILogger<PendingRecoveryService> logger) : BackgroundService
{
    public async Task<int> RecoverAllAsync(TimeSpan minimumAge, CancellationToken cancellationToken)
    {
        var recovered = 0;
        var holding = 0;
        await foreach (var memberId in hotState.ScanMembersWithPendingAsync().WithCancellation(cancellationToken))
        {
            holding++;
            var entries = await members.RecoverPendingAsync(memberId, minimumAge);
            foreach (var entry in entries)
            {
                // A crash may also have prevented the referrer's reward that follows a commit.
                await processor.RewardReferrerAsync(entry, programs.Current);
            }

            recovered += entries.Count;
        }

        metrics.PendingEntries.Set(holding);
        return recovered;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PendingRecoveryInterval;
        using var timer = new PeriodicTimer(interval);
        // A first pass right away: entries a previous process left behind need not wait a whole interval.
        do
        {
            try
            {
                // Entries younger than a recovery interval most likely belong to requests still committing them.
                await RecoverAllAsync(interval, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogRecoveryFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pending ledger entry recovery failed; retrying at the next interval")]
    private static partial void LogRecoveryFailed(ILogger logger, Exception exception);
}
