using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Members;

[Authorize(Roles = ClientRoles.Support + "," + ClientRoles.Admin)]
internal sealed class SupportGrpcService(TransactionPipeline processor, ProgramProvider programs, TimeProvider time) : SupportService.SupportServiceBase
{
    public override async Task<SetTierResponse> SetTier(SetTierRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        var now = time.GetUtcNow();
        var (floor, untilDay) = RequestValidation.Validate(request, program, program.Calendar.LocalTime(now));
        return await processor.ProcessAsync(new TierFloorIntent(request, floor, untilDay, now.ToUnixTimeMilliseconds(), program), context.CancellationToken);
    }
}
