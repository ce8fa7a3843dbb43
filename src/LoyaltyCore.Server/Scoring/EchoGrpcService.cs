using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Scoring;

/// <summary>The transport alone: same messages, authentication, interceptor and channels as Score, and no work.</summary>
[Authorize(Roles = ClientRoles.Pos)]
internal sealed class EchoGrpcService : EchoService.EchoServiceBase
{
    public override Task<ScoreResponse> Echo(ScoreRequest request, ServerCallContext context) =>
        Task.FromResult(new ScoreResponse { TransactionId = request.TransactionId });
}
