using System.Security.Claims;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.Extensions.Options;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Partners;

/// <summary>
/// What a partner does for itself. The partner is the key's: a request naming another partner gets the NOT_FOUND an
/// unknown partner gets, so a partner learns nothing of the others.
/// </summary>
// Every call is the partner's; a settlement an administrator may read too (GetSettlement says so).
[Authorize(Roles = ClientRoles.Partner + "," + ClientRoles.Admin)]
internal sealed class PartnerGrpcService(
    PartnerStore store,
    OfferStore offers,
    SettlementStore settlements,
    CampaignBudgets budgets,
    ProgramProvider programs,
    TransactionPipeline processor,
    IOptions<ScoringOptions> scoring,
    IOptions<HotStateOptions> hotState,
    LoyaltyMetrics metrics,
    IOptions<PartnerOptions> partnerOptions,
    TimeProvider time) : PartnerService.PartnerServiceBase
{
    private const int MaxReasonLength = 200;

    public override async Task<Partner> GetPartnerProfile(GetPartnerProfileRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        return PartnerMessages.ToMessage(await store.GetAsync(partnerId, context.CancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId));
    }

    public override async Task<Offer> CreateOffer(CreateOfferRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        OfferMessages.Validate(request.Offer, programs.Current);
        if (await offers.CountOpenAsync(partnerId, (long)OfferState.Ended, context.CancellationToken) >= partnerOptions.Value.MaxOpenOffers)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition,
                $"Partner '{partnerId}' has {partnerOptions.Value.MaxOpenOffers} offers that have not ended (Partners:MaxOpenOffers); end one first."));
        }

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
        var saved = await SaveAsync(stored, context.CancellationToken);
        // A budget changed moves what remains by the difference; points already funded stay funded.
        await budgets.ResizeAsync(new OfferTerms(stored).BudgetId, stored.BudgetPoints, context.CancellationToken);
        return saved;
    }

    public override Task<Offer> PauseOffer(PauseOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Paused, context.CancellationToken);

    public override Task<Offer> ResumeOffer(ResumeOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Active, context.CancellationToken);

    public override Task<Offer> EndOffer(EndOfferRequest request, ServerCallContext context) =>
        SetStateAsync(Caller(context, request.PartnerId), request.OfferId, OfferState.Ended, context.CancellationToken);

    public override async Task<ConversionResult> ReportConversion(ReportConversionRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        RequestValidation.ValidatePartnerAward("conversion_id", request.ConversionId, request.MemberId, request.OccurredAt, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew,
            ("offer_id", RequestValidation.IsValidId(request.OfferId) ? null : RequestValidation.IdRequirement),
            ("spend_minor", request.SpendMinor is >= 0 and <= long.MaxValue / 1_000_000 ? null : "0 or more, at most 9223372036854"));
        var terms = new OfferTerms(await FindAsync(partnerId, request.OfferId, context.CancellationToken));
        var points = terms.PointsFor(request.SpendMinor);
        if (points <= 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"A spend of {request.SpendMinor} earns no points under offer '{request.OfferId}'."));
        }

        var occurredAt = request.OccurredAt.ToDateTimeOffset();
        // The partner is the key's: the request is stored as the key's partner's, whatever it named (its own id or none).
        var canonical = request.Clone();
        canonical.PartnerId = partnerId;
        var award = new PartnerAward<ConversionResult>(
            canonical, ServerTransactionIds.Conversion + OfferTerms.PartnerTag(partnerId) + ":" + request.ConversionId, request.MemberId,
            occurredAt.ToUnixTimeMilliseconds(), partnerId, points, terms.BudgetId, terms.Offer.BudgetPoints,
            $"Offer '{request.OfferId}' has not enough budget left for {points} points.", terms.RuleId, terms.ConversionsKey, request.OfferId,
            (state, _) => terms.ConversionRefusal(state, occurredAt) is { } why
                ? new RpcException(new Status(StatusCode.FailedPrecondition, $"The conversion cannot be counted: {why}."))
                : null,
            awarded => new ConversionResult { ConversionId = request.ConversionId, MemberId = request.MemberId, OfferId = request.OfferId, PointsAwarded = awarded },
            ConversionResult.Parser,
            answer => answer.Replayed = true);
        return await ProcessAsync(new PartnerAwardIntent<ConversionResult>(award, programs.Current, metrics), partnerId, request.MemberId, context.CancellationToken);
    }

    public override async Task<AwardResult> AwardPoints(AwardPointsRequest request, ServerCallContext context)
    {
        var partnerId = Caller(context, request.PartnerId);
        RequestValidation.ValidatePartnerAward("award_id", request.AwardId, request.MemberId, request.OccurredAt, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew,
            ("points", request.Points > 0 && request.Points <= scoring.Value.MaxRedeemPoints ? null : $"must be between 1 and {scoring.Value.MaxRedeemPoints}"),
            ("reason", request.Reason.Length is > 0 and <= MaxReasonLength && !request.Reason.Any(char.IsControl) ? null : $"required, 1-{MaxReasonLength} characters with no control characters"));
        var partner = await store.GetAsync(partnerId, context.CancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId);
        var canonical = request.Clone();
        canonical.PartnerId = partnerId;
        var award = new PartnerAward<AwardResult>(
            canonical, ServerTransactionIds.PartnerAward + OfferTerms.PartnerTag(partnerId) + ":" + request.AwardId, request.MemberId,
            request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), partnerId, request.Points, OfferTerms.CreditBudgetId(partnerId), partner.CreditLimitPoints,
            $"Partner '{partnerId}' has not enough credit left for {request.Points} points.", "partner-award:" + partnerId, null, "direct",
            (_, _) => null,
            awarded => new AwardResult { AwardId = request.AwardId, MemberId = request.MemberId, PointsAwarded = awarded },
            AwardResult.Parser,
            answer => answer.Replayed = true);
        return await ProcessAsync(new PartnerAwardIntent<AwardResult>(award, programs.Current, metrics), partnerId, request.MemberId, context.CancellationToken);
    }

    // A member who is not enrolled gets the answer one who has not shared their id gets: a partner learns nothing of who
    // is a member.
    private async Task<TResponse> ProcessAsync<TResponse>(PartnerAwardIntent<TResponse> intent, string partnerId, string memberId, CancellationToken cancellationToken)
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        try
        {
            return await processor.ProcessAsync(intent, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound)
        {
            throw PartnerAwardIntent<TResponse>.MemberUnknown(partnerId, memberId);
        }
    }

    private async Task<Offer> SetStateAsync(string partnerId, string offerId, OfferState state, CancellationToken cancellationToken)
    {
        var stored = await FindAsync(partnerId, offerId, cancellationToken);
        if (stored.State == (long)state)
        {
            return OfferMessages.ToMessage(stored);
        }

        stored.State = (long)state;
        stored.UpdatedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await offers.SetStateAsync(partnerId, offerId, (long)state, stored.UpdatedAtMs, (long)OfferState.Ended, cancellationToken)
            ? OfferMessages.ToMessage(stored)
            : throw OfferMessages.Ended(offerId);
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

    public override async Task<Settlement> GetSettlement(GetSettlementRequest request, ServerCallContext context)
    {
        // An administrator reads any partner's; a partner its own only.
        var user = context.GetHttpContext().User;
        var partnerId = user.IsInRole(ClientRoles.Admin) && user.FindFirstValue(PartnerKeys.PartnerIdClaim) is null
            ? request.PartnerId
            : Caller(context, request.PartnerId);
        RequestValidation.ValidateMemberId(partnerId, "partner_id");
        var from = RequestValidation.InstantOf(request.From) ?? throw RpcErrors.InvalidArgument("from", "required, a valid timestamp");
        var to = RequestValidation.InstantOf(request.To) ?? throw RpcErrors.InvalidArgument("to", "required, a valid timestamp");
        if (to <= from)
        {
            throw RpcErrors.InvalidArgument("to", "must be after from");
        }

        var partner = await store.GetAsync(partnerId, context.CancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId);
        var (fromMs, toMs) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var account = await settlements.AccountAsync(PartnerAccounts.Funded(partnerId), fromMs, toMs, context.CancellationToken);
        var net = account.Funded - account.CreditedBack;
        var settlement = new Settlement
        {
            PartnerId = partnerId,
            From = request.From,
            To = request.To,
            PointsFunded = account.Funded,
            PointsCreditedBack = account.CreditedBack,
            NetPoints = net,
            PricePerThousandPointsMinor = partner.PricePerThousandPointsMinor,
            Currency = programs.Current.Currency,
            AmountOwedMinor = Settlements.AmountOwed(net, partner.PricePerThousandPointsMinor),
        };
        var offerPrefix = OfferTerms.BudgetPrefix(partnerId);
        foreach (var draws in await settlements.DrawsAsync(offerPrefix, fromMs, toMs, context.CancellationToken))
        {
            settlement.Conversions.Add(new OfferConversions { OfferId = draws.Budget[offerPrefix.Length..], Conversions = draws.Count, Points = draws.Points });
        }

        var credit = OfferTerms.CreditBudgetId(partnerId);
        foreach (var draws in await settlements.DrawsAsync(credit, fromMs, toMs, context.CancellationToken))
        {
            if (draws.Budget == credit)
            {
                settlement.DirectAwards = draws.Count;
                settlement.DirectAwardPoints = draws.Points;
            }
        }

        return settlement;
    }

    /// <summary>The calling partner, which a request may name (empty: the caller) but never choose.</summary>
    private static string Caller(ServerCallContext context, string named)
    {
        var caller = context.GetHttpContext().User.FindFirstValue(PartnerKeys.PartnerIdClaim)
            ?? throw new RpcException(new Status(StatusCode.PermissionDenied, "Only a partner key may make this call."));
        if (named.Length == 0 || named == caller)
        {
            return caller;
        }

        RequestValidation.ValidateMemberId(named, "partner_id");
        throw PartnerMessages.PartnerNotFound(named);
    }
}
