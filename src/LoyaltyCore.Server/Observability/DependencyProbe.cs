using LoyaltyCore.Server.Transactions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LoyaltyCore.Server.Observability;

/// <summary>
/// Runs the readiness checks every few seconds for <c>loyalty_dependency_up</c>: an alert on Redis or the ledger must
/// not wait for someone to probe health.
/// </summary>
internal sealed class DependencyProbe(HealthCheckService health, LoyaltyMetrics metrics, TimeProvider time, ILogger<DependencyProbe> logger)
    : PeriodicRun(time, logger)
{
    protected override bool Enabled => true;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(5);

    protected override string Name => "Dependency probe";

    protected override async Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var report = await health.CheckHealthAsync(check => check.Tags.Contains(HealthServiceNames.ReadyTag), cancellationToken);
        foreach (var (name, entry) in report.Entries)
        {
            metrics.DependencyUp.WithLabels(name).Set(entry.Status == HealthStatus.Healthy ? 1 : 0);
        }
    }
}
