using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Programs;

[Authorize(Roles = ClientRoles.Admin)]
internal sealed class ProgramGrpcService(
    ProgramProvider programs,
    CampaignBudgets budgets,
    MemberDirectory members,
    IOptions<ScoringOptions> scoring,
    IOptions<HotStateOptions> hotState,
    TimeProvider time) : ProgramService.ProgramServiceBase
{
    private const int MaxDocumentLength = 1024 * 1024;

    public override Task<ValidateProgramResponse> ValidateProgram(ValidateProgramRequest request, ServerCallContext context)
    {
        CheckDocument(request.Document);
        var response = new ValidateProgramResponse();
        try
        {
            var program = ProgramParser.Parse(request.Document);
            response.Valid = true;
            response.ProgramId = program.Id;
            response.Version = program.Version;
        }
        catch (ProgramValidationException ex)
        {
            response.Errors.AddRange(ex.Errors);
        }

        return Task.FromResult(response);
    }

    public override async Task<PublishProgramResponse> PublishProgram(PublishProgramRequest request, ServerCallContext context)
    {
        CheckDocument(request.Document);
        try
        {
            var (active, created) = await programs.PublishAsync(request.Document, context.CancellationToken);
            return new PublishProgramResponse { Program = ToMessage(active), Created = created };
        }
        catch (ProgramValidationException ex)
        {
            throw RpcErrors.InvalidArgument(ex.Errors.Select(e => new Google.Rpc.BadRequest.Types.FieldViolation
            {
                Field = "document." + e[..e.IndexOf(':', StringComparison.Ordinal)],
                Description = e[(e.IndexOf(':', StringComparison.Ordinal) + 2)..],
            }).ToList());
        }
        catch (ProgramVersionConflictException ex)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, ex.Message));
        }
    }

    public override Task<ProgramVersion> GetActiveProgram(GetActiveProgramRequest request, ServerCallContext context) =>
        Task.FromResult(ToMessage(programs.Active));

    public override async Task<ListCampaignsResponse> ListCampaigns(ListCampaignsRequest request, ServerCallContext context)
    {
        var response = new ListCampaignsResponse();
        var program = programs.Current;
        foreach (var campaign in program.Campaigns)
        {
            var status = new CampaignStatus { CampaignId = campaign.Id, Name = campaign.Name };
            if (campaign.Budget is { } budget)
            {
                status.Budget = budget;
                status.RemainingBudget = await budgets.RemainingAsync(program, campaign.Id) ?? budget;
            }

            response.Campaigns.Add(status);
        }

        return response;
    }

    public override async Task<SimulateResponse> Simulate(SimulateRequest request, ServerCallContext context)
    {
        var program = programs.Current;
        if (request.Purchase is null)
        {
            throw RpcErrors.InvalidArgument("purchase", "required");
        }

        var purchase = request.Purchase.Clone();
        purchase.TransactionId = string.IsNullOrEmpty(purchase.TransactionId) ? "simulation" : purchase.TransactionId;
        purchase.MemberId = string.IsNullOrEmpty(request.MemberId) ? "simulation" : request.MemberId;
        var basket = RequestValidation.Validate(purchase, program, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);

        MemberState state;
        if (!string.IsNullOrEmpty(request.MemberId))
        {
            state = (await members.GetAsync(request.MemberId, program, context.CancellationToken) ?? throw RpcErrors.MemberNotFound(request.MemberId)).State;
        }
        else
        {
            state = FromMessage(request.Member ?? new SimulatedMember());
        }

        var limits = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var campaign in program.Campaigns)
        {
            if (campaign.Budget is { } budget)
            {
                limits[campaign.Id] = await budgets.RemainingAsync(program, campaign.Id) ?? budget;
            }
        }

        var outcome = program.Score(state, basket, limits);
        var response = new SimulateResponse
        {
            PointsEarned = outcome.PointsEarned,
            Balance = state.Balance + outcome.BalanceDelta,
            PointsResetAtReview = outcome.PointsReset,
            Tier = outcome.TierAfter.Id,
            PreviousTier = outcome.TierBefore.Id,
            TierProgress = Progress.ToMessage(program, outcome.Progress),
            SpendMinor = outcome.SpendMinor,
            EligibleSpendMinor = outcome.EligibleSpendMinor,
            ProgramVersion = program.Version,
        };
        OutcomeChanges.AddBreakdown(outcome, response.Breakdown);
        return response;
    }

    private static MemberState FromMessage(SimulatedMember member) => new()
    {
        Balance = member.Balance,
        LifetimeSpendMinor = member.LifetimeSpendMinor,
        Tier = member.Tier,
        Purchases = member.Purchases,
        EnrolledAt = member.EnrolledAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch,
        Segments = [.. member.Segments],
        Membership = string.IsNullOrEmpty(member.Membership) ? null : member.Membership,
        MembershipExpiresAt = member.MembershipExpiresAt?.ToDateTimeOffset() ?? DateTimeOffset.UnixEpoch,
        ReferenceRevenueMinor = member.ReferenceRevenueMinor,
        ReferredBy = string.IsNullOrEmpty(member.ReferredBy) ? null : member.ReferredBy,
        Counters = new Dictionary<string, long>(member.Counters, StringComparer.Ordinal),
    };

    private static ProgramVersion ToMessage(ActiveProgram active) => new()
    {
        ProgramId = active.Program.Id,
        Version = active.Program.Version,
        Document = active.Document,
        ActivatedAt = Timestamp.FromDateTimeOffset(active.ActivatedAt),
    };

    private static void CheckDocument(string document)
    {
        if (string.IsNullOrWhiteSpace(document) || document.Length > MaxDocumentLength)
        {
            throw RpcErrors.InvalidArgument("document", $"required, at most {MaxDocumentLength} characters");
        }
    }
}
