using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Releases holds past their expiry. The ledger says which: authorizations whose expiry has passed and that no row
/// refers to yet. Each release is a transaction with id <c>hold-expired:&lt;hold id&gt;</c> and the expiry as its time,
/// so every server and every rerun sends the same request and a hold is released once, whatever crashed in between.
/// </summary>
internal sealed partial class HoldExpiryRun(
    LedgerStore ledger,
    TransactionPipeline processor,
    ProgramProvider programs,
    LoyaltyMetrics metrics,
    TimeProvider time,
    IOptions<HoldOptions> options,
    ILogger<HoldExpiryRun> logger) : PeriodicRun(time, logger)
{
    private const int PageSize = 500;

    // Expiries up to here were all released by this process; each run starts a lookback before it (see SweepLookback).
    private long _releasedThroughMs = long.MinValue;
    private DateTimeOffset? _lastFullSweep;

    /// <summary>Releases every hold past its expiry at <paramref name="now"/>.</summary>
    /// <returns>Holds this run released (not those another server or an earlier run already had).</returns>
    public async Task<int> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var lookback = (long)options.Value.SweepLookback.TotalMilliseconds;
        var full = _lastFullSweep is not { } last || now - last >= options.Value.FullSweepInterval;
        if (full)
        {
            _lastFullSweep = now;
        }

        var cursor = new ExpiredHold { ExpiresAtMs = full || _releasedThroughMs == long.MinValue ? long.MinValue : _releasedThroughMs - lookback };
        long? firstFailure = null;
        var released = 0;
        while (true)
        {
            var page = await ledger.ExpiredHoldsAsync(nowMs, cursor, PageSize, cancellationToken);
            foreach (var hold in page)
            {
                var outcome = await ReleaseAsync(hold, cancellationToken);
                released += outcome == true ? 1 : 0;
                if (outcome is null)
                {
                    firstFailure ??= hold.ExpiresAtMs;
                }
            }

            if (page.Count < PageSize)
            {
                break;
            }

            cursor = page[^1];
        }

        // A failed release is retried by the next run: the mark stays before it.
        _releasedThroughMs = Math.Max(_releasedThroughMs, firstFailure is { } failed ? failed - 1 : nowMs);
        if (released > 0)
        {
            LogReleased(logger, released);
        }

        return released;
    }

    /// <returns>True when this call released the hold, false when it was already released or ended, null when it failed.</returns>
    private async Task<bool?> ReleaseAsync(ExpiredHold hold, CancellationToken cancellationToken)
    {
        var request = new VoidRequest
        {
            TransactionId = ServerTransactionIds.HoldExpired + hold.HoldId,
            MemberId = hold.MemberId,
            HoldId = hold.HoldId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(hold.ExpiresAtMs)),
        };
        try
        {
            var answer = await processor.ProcessAsync(new ReleaseHoldIntent(request, expiry: true, programs.Current, metrics), cancellationToken);
            return !answer.Replayed;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            // Captured or voided while this run looked at it: its ending row is on its way to the ledger.
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogHoldFailed(logger, ex, hold.HoldId, hold.MemberId);
            return null;
        }
    }

    protected override bool Enabled => options.Value.ExpiryRunEnabled;

    protected override TimeSpan Interval => options.Value.SweepInterval;

    protected override string Name => "Hold expiry run";

    protected override Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken) => RunAsync(now, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hold expiry run released {Released} holds")]
    private static partial void LogReleased(ILogger logger, int released);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Releasing expired hold {HoldId} of {MemberId} failed; the next run retries it")]
    private static partial void LogHoldFailed(ILogger logger, Exception exception, string holdId, string memberId);
}
