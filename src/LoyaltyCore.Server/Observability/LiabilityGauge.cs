using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Transactions;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Observability;

/// <summary>
/// Keeps <c>loyalty_points_outstanding</c> from the ledger, the system of record, rather than from Redis or this
/// process's counters: every server reads the same sum, so any of them can be scraped, and restarts lose nothing.
/// </summary>
internal sealed class LiabilityGauge(LedgerStore ledger, LoyaltyMetrics metrics, TimeProvider time, IOptions<ExpiryOptions> options, ILogger<LiabilityGauge> logger)
    : PeriodicRun(time, logger)
{
    protected override bool Enabled => true;

    protected override TimeSpan Interval => options.Value.LiabilityRefreshInterval;

    protected override string Name => "Points outstanding refresh";

    protected override async Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        metrics.PointsOutstanding.Set(await ledger.PointsOutstandingAsync(cancellationToken));
}
