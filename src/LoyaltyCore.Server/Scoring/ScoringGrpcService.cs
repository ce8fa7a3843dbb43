using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Scoring;

[Authorize(Roles = ClientRoles.Pos)]
internal sealed class ScoringGrpcService(
    TransactionProcessor processor,
    ProgramProvider programs,
    IOptions<ScoringOptions> scoring,
    IOptions<HotStateOptions> hotState,
    TimeProvider time,
    LoyaltyMetrics metrics) : ScoringService.ScoringServiceBase
{
    public override Task<ScoreResponse> Score(ScoreRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        var basket = RequestValidation.Validate(request, program, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return processor.ProcessAsync(new ScoreIntent(request, basket, program, metrics), context.CancellationToken);
    }

    public override Task<RedeemResponse> Redeem(RedeemRequest request, ServerCallContext context)
    {
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return processor.ProcessAsync(new RedeemIntent(request, programs.Current, metrics), context.CancellationToken);
    }
}
