using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>Buying a paid membership: it starts now (or extends an unexpired one of the same kind) for the plan's duration.</summary>
internal sealed class MembershipIntent(PurchaseMembershipRequest request, MembershipPlan plan, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<PurchaseMembershipResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Membership, request)
{
    public override MessageParser<PurchaseMembershipResponse> Parser => PurchaseMembershipResponse.Parser;

    protected override PreparedTransaction<PurchaseMembershipResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var occurredAt = DateTimeOffset.FromUnixTimeMilliseconds(OccurredAtMs);
        var start = state.HasMembershipAt(plan.Id, occurredAt) ? state.MembershipExpiresAt : occurredAt;
        var expiresAt = start.AddDays(plan.DurationDays);
        var (price, segment) = plan.PriceFor(state.Segments);
        var response = new PurchaseMembershipResponse
        {
            TransactionId = TransactionId,
            MembershipId = plan.Id,
            ExpiresAt = Timestamp.FromDateTimeOffset(expiresAt),
            PriceMinor = price,
            ProgramVersion = Program.Version,
            PriceSegment = segment ?? string.Empty,
        };
        var expires = expiresAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        List<KeyValuePair<string, string>> sets = [new(MemberFields.Membership, plan.Id), new(MemberFields.MembershipExpiresAt, expires)];
        var entry = NewEntry(0, recordedAtMs, state.Tier, state.Balance);
        entry.RuleIds = plan.RuleId;
        entry.Changes = new StateChanges { Sets = { [MemberFields.Membership] = plan.Id, [MemberFields.MembershipExpiresAt] = expires } };
        return Complete(response, entry, 0, sets: sets);
    }

    public override void MarkReplayed(PurchaseMembershipResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<PurchaseMembershipResponse> prepared) => metrics.MembershipsSold.WithLabels(plan.Id).Inc();
}
