using System.Security.Claims;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Partners;

/// <summary>
/// What a partner does for itself. The partner is the key's: a request naming another partner gets the NOT_FOUND an
/// unknown partner gets, so a partner learns nothing of the others.
/// </summary>
[Authorize(Roles = ClientRoles.Partner)]
internal sealed class PartnerGrpcService(PartnerStore store) : PartnerService.PartnerServiceBase
{
    public override async Task<Partner> GetPartnerProfile(GetPartnerProfileRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        return PartnerMessages.ToMessage(await store.GetAsync(partnerId, context.CancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId));
    }

    /// <summary>The calling partner, which a request may name (empty: the caller) but never choose.</summary>
    private static string Caller(ServerCallContext context, string named)
    {
        var caller = context.GetHttpContext().User.FindFirstValue(PartnerKeys.PartnerIdClaim)
            ?? throw new RpcException(new Status(StatusCode.PermissionDenied, "Only a partner key may call PartnerService."));
        if (named.Length == 0 || named == caller)
        {
            return caller;
        }

        RequestValidation.ValidateMemberId(named, "partner_id");
        throw PartnerMessages.PartnerNotFound(named);
    }
}
