using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Members;

// Roles per method: reading a member is also support's and admin's work, changing one through here is the till's.
[Authorize]
internal sealed class MemberGrpcService(
    MemberDirectory members,
    TransactionPipeline processor,
    ProgramProvider programs,
    IOptions<ScoringOptions> scoring,
    IOptions<HotStateOptions> hotState,
    TimeProvider time,
    LoyaltyMetrics metrics,
    CampaignBudgets budgets,
    OfferStore offers,
    PartnerStore partners,
    TransactionHistory history) : MemberService.MemberServiceBase
{
    private const int MaxSegments = 32;

    private const string Readers = ClientRoles.Pos + "," + ClientRoles.Support + "," + ClientRoles.Admin;

    [Authorize(Roles = Readers)]
    public override Task<ListTransactionsResponse> ListTransactions(ListTransactionsRequest request, ServerCallContext context) =>
        history.ListAsync(request, context.CancellationToken);

    [Authorize(Roles = Readers)]
    public override async Task<ListLotsResponse> ListLots(ListLotsRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        var program = programs.Current;
        var (state, _, _) = await ViewAsync(request.MemberId, program, context.CancellationToken);
        var lots = PointLots.Open(state);
        var response = new ListLotsResponse
        {
            UnlottedPoints = PointLots.Unlotted(state, lots),
            OwedPoints = PointLots.Owed(state, lots),
            Balance = state.Balance,
        };
        foreach (var lot in lots)
        {
            response.Lots.Add(new Contracts.V1.PointLot
            {
                EarnedOn = PointMessages.Day(lot.EarnedOn),
                ExpiresOn = PointMessages.Day(PointLots.ExpiresOn(lot, state)),
                Points = lot.Points,
                ExtendsOnActivity = lot.Extends,
                FundedBy = lot.Funder ?? string.Empty,
            });
        }

        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListRewardsResponse> ListRewards(ListRewardsRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        var program = programs.Current;
        var (state, tier, now) = await ViewAsync(request.MemberId, program, context.CancellationToken);
        var response = new ListRewardsResponse
        {
            AvailablePoints = state.AvailablePoints,
            Nudge = PointMessages.Nudge(program.Rewards.NudgeFor(state, tier, now)),
        };
        foreach (var reward in program.Rewards.Rewards)
        {
            var block = reward.Check(state, tier, now);
            var status = new RewardStatus
            {
                RewardId = reward.Id,
                Name = reward.Name,
                Cost = reward.Cost,
                PointsNeeded = Math.Max(0, reward.Cost - state.AvailablePoints),
                Claims = state.Counter(reward.ClaimsKey),
            };
            if (reward.PerMemberLimit is { } limit)
            {
                status.PerMemberLimit = limit;
            }

            if (await budgets.RemainingAsync(program, reward.StockId) is { } remaining)
            {
                status.StockRemaining = remaining;
                if (remaining < 1 && block is Engine.Rewards.RewardBlock.None or Engine.Rewards.RewardBlock.Points)
                {
                    status.Block = RewardBlock.OutOfStock;
                }
            }

            if (status.Block == RewardBlock.Unspecified)
            {
                status.Block = block switch
                {
                    Engine.Rewards.RewardBlock.None => RewardBlock.None,
                    Engine.Rewards.RewardBlock.Window => RewardBlock.Window,
                    Engine.Rewards.RewardBlock.Tier => RewardBlock.Tier,
                    Engine.Rewards.RewardBlock.Segment => RewardBlock.Segment,
                    Engine.Rewards.RewardBlock.Limit => RewardBlock.Limit,
                    _ => RewardBlock.Points,
                };
            }

            status.Claimable = status.Block == RewardBlock.None;
            response.Rewards.Add(status);
        }

        return response;
    }

    [Authorize(Roles = Readers)]
    public override async Task<ListMemberOffersResponse> ListOffers(ListMemberOffersRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        if (!System.Enum.IsDefined(request.Channel))
        {
            throw RpcErrors.InvalidArgument("channel", "one of the defined channels, or CHANNEL_UNSPECIFIED for every channel");
        }

        var program = programs.Current;
        var (state, tier, now) = await ViewAsync(request.MemberId, program, context.CancellationToken);
        var response = new ListMemberOffersResponse();
        int? channel = request.Channel == Contracts.V1.Channel.Unspecified ? null : (int)request.Channel;
        foreach (var stored in await offers.LiveAsync(now.ToUnixTimeMilliseconds(), OfferTerms.ActiveState, context.CancellationToken))
        {
            var terms = new OfferTerms(stored);
            if (terms.Check(state, tier, channel, now) != OfferBlock.None
                || await budgets.RemainingAsync(terms.BudgetId, stored.BudgetPoints) < Math.Max(1, terms.PointsFor(0)))
            {
                continue;
            }

            response.Offers.Add(new MemberOffer
            {
                PartnerId = stored.PartnerId,
                OfferId = stored.OfferId,
                Title = stored.Title,
                Description = stored.Description,
                EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.EndsAtMs)),
                FixedPoints = stored.FixedPoints,
                PointsPerUnit = stored.PointsPerUnit,
                PerMinor = stored.PerMinor,
                Activated = state.Counter(terms.ActivationKey) > 0,
                Conversions = state.Counter(terms.ConversionsKey),
                PerMemberLimit = stored.PerMemberLimit,
            });
            metrics.OffersShown.WithLabels(stored.PartnerId, stored.OfferId).Inc();
        }

        return response;
    }

    [Authorize(Roles = ClientRoles.Pos)]
    public override async Task<ActivateOfferResponse> ActivateOffer(ActivateOfferRequest request, ServerCallContext context)
    {
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var stored = await offers.GetAsync(request.PartnerId, request.OfferId, context.CancellationToken)
            ?? throw new RpcException(new Grpc.Core.Status(StatusCode.NotFound, $"Partner '{request.PartnerId}' has no offer '{request.OfferId}'."));
        if ((await partners.GetAsync(request.PartnerId, context.CancellationToken))?.Suspended != false)
        {
            // A suspended partner's offers are paused to members.
            stored.State = (long)OfferState.Paused;
        }

        return await processor.ProcessAsync(new OfferActivationIntent(request, new OfferTerms(stored), programs.Current, metrics), context.CancellationToken);
    }

    [Authorize(Roles = ClientRoles.Pos)]
    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        var referrer = string.IsNullOrEmpty(request.ReferrerMemberId) ? null : request.ReferrerMemberId;
        if (referrer is not null)
        {
            RequestValidation.ValidateMemberId(referrer, "referrer_member_id");
            if (referrer == request.MemberId)
            {
                throw RpcErrors.InvalidArgument("referrer_member_id", "a member cannot refer themselves");
            }

            if (!await members.ExistsAsync(referrer, context.CancellationToken))
            {
                throw RpcErrors.InvalidArgument("referrer_member_id", $"'{referrer}' is not an enrolled member");
            }
        }

        var program = programs.Current;
        var created = await members.EnrollAsync(request.MemberId, referrer, program, context.CancellationToken);
        var reward = created ? await processor.RewardEnrolmentAsync(request.MemberId, program) : null;
        var member = await GetAsync(request.MemberId, program, context.CancellationToken);
        return new EnrollResponse { Member = member, Created = created, PointsEarned = reward?.PointsEarned ?? 0 };
    }

    [Authorize(Roles = Readers)]
    public override Task<Member> GetMember(GetMemberRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        return GetAsync(request.MemberId, programs.Current, context.CancellationToken);
    }

    [Authorize(Roles = ClientRoles.Pos)]
    public override async Task<Member> UpdateMember(UpdateMemberRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        if (request.Segments is null && !request.HasReferenceRevenueMinor && !request.HasBirthday)
        {
            throw RpcErrors.InvalidArgument("segments", "nothing to update: set segments, reference_revenue_minor and/or birthday");
        }

        int? birthday = null;
        if (request.HasBirthday && request.Birthday.Length > 0 && (birthday = BirthdayRun.Parse(request.Birthday)) is null)
        {
            throw RpcErrors.InvalidArgument("birthday", "a day of the year as MM-DD (01-01 to 12-31, 02-29 allowed), or empty to clear it");
        }

        if (request.Segments is { } segments)
        {
            if (segments.Values.Count > MaxSegments)
            {
                throw RpcErrors.InvalidArgument("segments.values", $"at most {MaxSegments} segments");
            }

            for (var i = 0; i < segments.Values.Count; i++)
            {
                RequestValidation.ValidateMemberId(segments.Values[i], $"segments.values[{i}]");
            }
        }

        if (request.HasReferenceRevenueMinor && request.ReferenceRevenueMinor < 0)
        {
            throw RpcErrors.InvalidArgument("reference_revenue_minor", "must not be negative");
        }

        var program = programs.Current;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (request.HasBirthday)
        {
            if (!await members.ExistsAsync(request.MemberId, context.CancellationToken))
            {
                throw RpcErrors.MemberNotFound(request.MemberId);
            }

            // The day the birthday run looks for first, then the state: a retry of the call repairs either one.
            await members.SetBirthdayAsync(request.MemberId, birthday, context.CancellationToken);
        }

        await processor.ProcessAsync(new ProfileIntent(request, "profile:" + Guid.NewGuid().ToString("N"), now, program), context.CancellationToken);
        return await GetAsync(request.MemberId, program, context.CancellationToken);
    }

    [Authorize(Roles = ClientRoles.Pos)]
    public override async Task<PurchaseMembershipResponse> PurchaseMembership(PurchaseMembershipRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var plan = program.FindMembership(request.MembershipId)
            ?? throw RpcErrors.InvalidArgument("membership_id", $"the program has no membership '{request.MembershipId}'");
        return await processor.ProcessAsync(new MembershipIntent(request, plan, program, metrics), context.CancellationToken);
    }

    [Authorize(Roles = ClientRoles.Pos)]
    public override async Task<RecordEventResponse> RecordEvent(RecordEventRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        RequestValidation.Validate(request, program, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return await processor.ProcessAsync(new EventIntent(request, program, metrics), context.CancellationToken);
    }

    /// <summary>
    /// The member as the next transaction will find them: a review that fell due resets points then, so its reset is
    /// shown as done (taken from the oldest lots, as it will be); with the tier held now and the server's clock.
    /// </summary>
    private async Task<(MemberState State, string Tier, DateTimeOffset Now)> ViewAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var snapshot = await members.GetAsync(memberId, program, cancellationToken) ?? throw RpcErrors.MemberNotFound(memberId);
        var now = time.GetUtcNow();
        var local = program.Calendar.LocalTime(now);
        var (tier, review) = program.TierPolicy.Current(snapshot.State, local);
        var reset = program.TierPolicy.PointsResetBy(snapshot.State, review);
        if (reset == 0)
        {
            return (snapshot.State, tier.Id, now);
        }

        return (PointLots.Apply(snapshot.State, PointLots.Change(snapshot.State, -reset, DateOnly.FromDateTime(local), program.Expiry, activity: false)), tier.Id, now);
    }

    private async Task<Member> GetAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var snapshot = await members.GetAsync(memberId, program, cancellationToken) ?? throw RpcErrors.MemberNotFound(memberId);
        var state = snapshot.State;
        var now = time.GetUtcNow();
        var local = program.Calendar.LocalTime(now);
        var policy = program.TierPolicy;
        var (tier, review) = policy.Current(state, local);
        // A review that fell due resets points at the member's next transaction; it is shown as already done.
        var reset = policy.PointsResetBy(state, review);
        var qualifying = policy.QualifyingValue(state, local) - (policy.Metric == QualificationMetric.Balance ? reset : 0);
        var member = new Member
        {
            MemberId = memberId,
            Balance = state.Balance - reset,
            Tier = tier.Id,
            LifetimeSpendMinor = state.LifetimeSpendMinor,
            EnrolledAt = Timestamp.FromDateTimeOffset(state.EnrolledAt),
            TierProgress = Progress.ToMessage(program, program.Tiers.ProgressFrom(tier, qualifying)),
            ReferenceRevenueMinor = state.ReferenceRevenueMinor,
            ReferredBy = state.ReferredBy ?? string.Empty,
            Birthday = state.Birthday ?? string.Empty,
            AvailablePoints = state.AvailablePoints - reset,
        };
        member.Segments.AddRange(state.Segments);
        var afterReset = PointLots.Change(state, -reset, DateOnly.FromDateTime(local), program.Expiry, activity: false);
        member.NextExpiry = PointMessages.NextExpiry(PointLots.NextExpiry(state, afterReset));
        member.Nudge = PointMessages.Nudge(program.Rewards.NudgeFor(state.WithBalance(state.Balance - reset), tier.Id, now));
        foreach (var hold in HoldState.All(state))
        {
            member.Holds.Add(new Hold
            {
                HoldId = hold.HoldId,
                Points = hold.Points,
                ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(hold.ExpiresAtMs)),
            });
        }

        if (program.TierPolicy.FloorAt(state, local) is { } floor)
        {
            member.TierFloor = floor.Id;
            var until = state.TierFloorUntil;
            member.TierFloorUntil = string.Create(CultureInfo.InvariantCulture, $"{until / 10_000:D4}-{until / 100 % 100:D2}-{until % 100:D2}");
        }

        if (state.Membership is { } membership && state.HasMembershipAt(membership, now))
        {
            member.Membership = membership;
            member.MembershipExpiresAt = Timestamp.FromDateTimeOffset(state.MembershipExpiresAt);
        }

        return member;
    }
}
