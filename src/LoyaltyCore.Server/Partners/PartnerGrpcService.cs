using System.Security.Claims;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Partners;

/// <summary>
/// What a partner does for itself. The partner is the key's: a request naming another partner gets the NOT_FOUND an
/// unknown partner gets, so a partner learns nothing of the others.
/// </summary>
[Authorize(Roles = ClientRoles.Partner)]
internal sealed class PartnerGrpcService(PartnerStore store, OfferStore offers, ProgramProvider programs, TimeProvider time) : PartnerService.PartnerServiceBase
{
    public override async Task<Partner> GetPartnerProfile(GetPartnerProfileRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        return PartnerMessages.ToMessage(await store.GetAsync(partnerId, context.CancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId));
    }

    public override async Task<Offer> CreateOffer(CreateOfferRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        OfferMessages.Validate(request.Offer, programs.Current);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var stored = new StoredOffer { PartnerId = partnerId, OfferId = request.Offer.OfferId, State = (long)OfferState.Active, CreatedAtMs = now, UpdatedAtMs = now };
        OfferMessages.CopyTo(request.Offer, stored);
        if (!await offers.CreateAsync(stored, context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"Partner '{partnerId}' already has an offer '{request.Offer.OfferId}'."));
        }

        return OfferMessages.ToMessage(stored);
    }

    public override async Task<Offer> GetOffer(GetOfferRequest request, ServerCallContext context) =>
        OfferMessages.ToMessage(await FindAsync(Caller(context, request.PartnerId), request.OfferId, context.CancellationToken));

    public override async Task<ListPartnerOffersResponse> ListOffers(ListPartnerOffersRequest request, ServerCallContext context)
    {
        var response = new ListPartnerOffersResponse();
        response.Offers.AddRange((await offers.ListAsync(Caller(context, request.PartnerId), context.CancellationToken)).Select(OfferMessages.ToMessage));
        return response;
    }

    public override async Task<Offer> UpdateOffer(UpdateOfferRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        OfferMessages.Validate(request.Offer, programs.Current);
        var stored = await FindAsync(partnerId, request.Offer.OfferId, context.CancellationToken);
        OfferMessages.CopyTo(request.Offer, stored);
        return await SaveAsync(stored, context.CancellationToken);
    }

    public override Task<Offer> PauseOffer(PauseOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Paused, context.CancellationToken);

    public override Task<Offer> ResumeOffer(ResumeOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Active, context.CancellationToken);

    public override Task<Offer> EndOffer(EndOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Ended, context.CancellationToken);

    private async Task<Offer> SetStateAsync(string partnerId, string offerId, OfferState state, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(partnerId, offerId, cancellationToken);
        if (stored.State == (long)state)
        {
            return OfferMessages.ToMessage(stored);
        }

        stored.State = (long)state;
        return await SaveAsync(stored, cancellationToken);
    }

    // An ended offer never changes: the database refuses the write, whatever another call did meanwhile.
    private async Task<Offer> SaveAsync(StoredOffer stored, CancellationToken cancellationToken)
    {
        stored.UpdatedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await offers.UpdateAsync(stored, (long)OfferState.Ended, cancellationToken)
            ? OfferMessages.ToMessage(stored)
            : throw OfferMessages.Ended(stored.OfferId);
    }

    private async Task<StoredOffer> FindAsync(string partnerId, string offerId, CancellationToken cancellationToken)
    {
        RequestValidation.ValidateMemberId(offerId, "offer_id");
        return await offers.GetAsync(partnerId, offerId, cancellationToken) ?? throw OfferMessages.NotFound(partnerId, offerId);
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
