using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Security;

/// <summary>
/// A token bucket per partner on PartnerService, so one partner's batch job can never slow the tills or another
/// partner: past it, that partner's calls get RESOURCE_EXHAUSTED (HTTP 429) at once, nothing is queued.
/// </summary>
internal static class PartnerRateLimits
{
    public const string Policy = "partner";

    public static IServiceCollection AddPartnerRateLimits(this IServiceCollection services) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<PartnerOptions>>().Value;
                var partner = context.User.FindFirst(PartnerKeys.PartnerIdClaim)?.Value;
                return partner is null
                    ? RateLimitPartition.GetNoLimiter(string.Empty)
                    : RateLimitPartition.GetTokenBucketLimiter(partner, _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = options.Burst,
                        TokensPerPeriod = options.RequestsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            limiter.OnRejected = (rejected, _) => new ValueTask(GrpcRefusal.WriteAsync(rejected.HttpContext, Grpc.Core.StatusCode.ResourceExhausted,
                "This partner's calls are over its rate (Partners:RequestsPerSecond, Partners:Burst); retry later."));
        });
}
