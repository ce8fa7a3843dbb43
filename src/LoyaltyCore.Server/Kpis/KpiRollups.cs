using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Kpis;

/// <summary>Brings the KPI rollups up to the ledger's committed end, page by page.</summary>
internal sealed class KpiRollups(KpiStore store, IOptions<KpiOptions> options)
{
    /// <param name="wait">Wait for a pass another server holds (a report), rather than leave the work to it (the gauges).</param>
    /// <param name="maxPages">Pages at most, so a long backlog is worked off over several calls.</param>
    /// <returns>The rows summed.</returns>
    public async Task<long> CatchUpAsync(bool wait, int maxPages, CancellationToken cancellationToken)
    {
        long rows = 0;
        for (var page = 0; page < maxPages; page++)
        {
            var pass = await store.RollUpAsync(options.Value.RollupPageSize, wait, PointFlows.IsPurchase, PointFlows.RulesOf, cancellationToken);
            rows += pass.Rows;
            if (pass.Skipped || pass.CaughtUp)
            {
                break;
            }
        }

        return rows;
    }

    /// <summary>Seconds since the oldest committed row the rollups have not counted was recorded; 0 when caught up.</summary>
    public async Task<double> LagSecondsAsync(DateTimeOffset now, CancellationToken cancellationToken) =>
        await store.OldestUnsummedRecordedMsAsync(cancellationToken) is { } oldest
            ? Math.Max(0, (now.ToUnixTimeMilliseconds() - oldest) / 1000.0)
            : 0;
}
