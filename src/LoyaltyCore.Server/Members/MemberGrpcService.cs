using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;

namespace LoyaltyCore.Server.Members;

[Authorize(Roles = ClientRoles.Pos)]
internal sealed class MemberGrpcService(MemberDirectory members, ProgramProvider programs) : MemberService.MemberServiceBase
{
    public override async Task<EnrollResponse> Enroll(EnrollRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        var program = programs.Current;
        var created = await members.EnrollAsync(request.MemberId, program, context.CancellationToken);
        var member = await GetAsync(request.MemberId, program, context.CancellationToken);
        return new EnrollResponse { Member = member, Created = created };
    }

    public override Task<Member> GetMember(GetMemberRequest request, ServerCallContext context)
    {
        RequestValidation.ValidateMemberId(request.MemberId);
        return GetAsync(request.MemberId, programs.Current, context.CancellationToken);
    }

    private async Task<Member> GetAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var stored = await members.GetAsync(memberId, program, cancellationToken) ?? throw RpcErrors.MemberNotFound(memberId);
        return ToMember(memberId, stored, program);
    }

    private static Member ToMember(string memberId, StoredMember stored, LoyaltyProgram program)
    {
        var snapshot = stored.Snapshot;
        var tier = program.Tiers.Resolve(snapshot.Tier, snapshot.LifetimeSpendMinor);
        var progress = program.Tiers.ProgressFrom(tier, snapshot.LifetimeSpendMinor);
        return new Member
        {
            MemberId = memberId,
            Balance = snapshot.Balance,
            Tier = tier.Id,
            LifetimeSpendMinor = snapshot.LifetimeSpendMinor,
            EnrolledAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.EnrolledAtMs)),
            TierProgress = progress is { } p
                ? new TierProgress { NextTier = p.NextTier.Id, SpendToNextTierMinor = p.SpendToNextTierMinor }
                : null,
        };
    }
}
