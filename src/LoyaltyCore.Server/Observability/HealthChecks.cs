using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace LoyaltyCore.Server.Observability;

internal sealed class HotStateHealthCheck(HotStateStore hotState) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await hotState.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.", ex);
        }
    }
}

internal sealed class LedgerHealthCheck(LedgerStore ledger) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await ledger.PingAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("The ledger does not answer.", ex);
        }
    }
}

/// <summary>The names the gRPC health service answers for.</summary>
internal static class HealthServiceNames
{
    public const string ReadyTag = "ready";

    public const string LiveTag = "live";

    public const string Liveness = "liveness";

    public static readonly string[] Readiness =
    [
        string.Empty,
        "readiness",
        "loyalty.v1.ScoringService",
        "loyalty.v1.MemberService",
        "loyalty.v1.ProgramService",
        "loyalty.v1.SupportService",
        "loyalty.v1.PartnerAdminService",
        "loyalty.v1.PartnerService",
        "loyalty.v1.ReportService",
    ];
}
