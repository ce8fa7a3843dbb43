using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Members;

[Authorize(Roles = ClientRoles.Support + "," + ClientRoles.Admin)]
internal sealed class SupportGrpcService(TransactionPipeline processor, ProgramProvider programs, TimeProvider time, LoyaltyMetrics metrics) : SupportService.SupportServiceBase
{
    public override async Task<SetTierResponse> SetTier(SetTierRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        var now = time.GetUtcNow();
        var (floor, untilDay) = RequestValidation.Validate(request, program, program.Calendar.LocalTime(now));
        return await processor.ProcessAsync(new TierFloorIntent(request, floor, untilDay, now.ToUnixTimeMilliseconds(), program), context.CancellationToken);
    }

    public override async Task<AdjustPointsResponse> AdjustPoints(AdjustPointsRequest request, ServerCallContext context)
    {
        RequestValidation.Validate(request);
        // Authentication guarantees a name: the client id of the API key.
        var operatorId = context.GetHttpContext().User.Identity!.Name!;
        var intent = new AdjustmentIntent(request, operatorId, time.GetUtcNow().ToUnixTimeMilliseconds(), programs.Current, metrics);
        return await processor.ProcessAsync(intent, context.CancellationToken);
    }
}
