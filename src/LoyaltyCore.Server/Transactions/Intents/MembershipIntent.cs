using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Scoring;

namespace LoyaltyCore.Server.Members;

/// <summary>Buying a paid membership: it starts now (or extends an unexpired one of the same kind) for the plan's duration.</summary>
internal sealed class MembershipIntent(PurchaseMembershipRequest request, MembershipPlan plan, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<PurchaseMembershipResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Membership, request)
{
    public override MessageParser<PurchaseMembershipResponse> Parser => PurchaseMembershipResponse.Parser;

    public override PreparedTransaction<PurchaseMembershipResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var occurredAt = DateTimeOffset.FromUnixTimeMilliseconds(OccurredAtMs);
        var start = state.HasMembershipAt(plan.Id, occurredAt) ? state.MembershipExpiresAt : occurredAt;
        var expiresAt = start.AddDays(plan.DurationDays);
        var response = new PurchaseMembershipResponse
        {
            TransactionId = TransactionId,
            MembershipId = plan.Id,
            ExpiresAt = Timestamp.FromDateTimeOffset(expiresAt),
            PriceMinor = plan.PriceMinor,
            ProgramVersion = Program.Version,
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

/// <summary>A change to the member's profile (segments, reference revenue), recorded in the ledger like any other change.</summary>
internal sealed class ProfileIntent(UpdateMemberRequest request, string transactionId, long occurredAtMs, LoyaltyProgram program)
    : TransactionIntent<Empty>(transactionId, request.MemberId, occurredAtMs, program, EntryKind.Profile, request)
{
    public override MessageParser<Empty> Parser => Empty.Parser;

    public override PreparedTransaction<Empty> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var sets = new List<KeyValuePair<string, string>>(2);
        var changes = new StateChanges();
        if (request.Segments is { } segments)
        {
            var joined = string.Join(',', segments.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
            sets.Add(new(MemberFields.Segments, joined));
            changes.Sets[MemberFields.Segments] = joined;
        }

        if (request.HasReferenceRevenueMinor)
        {
            var revenue = request.ReferenceRevenueMinor.ToString(CultureInfo.InvariantCulture);
            sets.Add(new(MemberFields.ReferenceRevenue, revenue));
            changes.Sets[MemberFields.ReferenceRevenue] = revenue;
        }

        var entry = NewEntry(0, recordedAtMs, snapshot.State.Tier, snapshot.State.Balance);
        entry.Changes = changes;
        return Complete(new Empty(), entry, 0, sets: sets);
    }

    public override void MarkReplayed(Empty response)
    {
    }
}

/// <summary>The referrer's reward for a referred member's first qualifying purchase: once per referred member, ever.</summary>
internal sealed class ReferralIntent(string referrerId, string refereeId, long points, long occurredAtMs, LoyaltyProgram program)
    : TransactionIntent<ScoreResponse>("referral:" + refereeId, referrerId, occurredAtMs, program, EntryKind.Referral, new StringValue { Value = refereeId })
{
    public override MessageParser<ScoreResponse> Parser => ScoreResponse.Parser;

    public override PreparedTransaction<ScoreResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var balance = checked(snapshot.State.Balance + points);
        var response = new ScoreResponse
        {
            TransactionId = TransactionId,
            PointsEarned = points,
            Balance = balance,
            Tier = snapshot.State.Tier,
            PreviousTier = snapshot.State.Tier,
            ProgramVersion = Program.Version,
            Breakdown = { new BreakdownEntry { RuleId = LoyaltyProgram.ReferralRuleId, Points = points, Reason = $"Referral bonus: {refereeId} made a first qualifying purchase" } },
        };
        var entry = NewEntry(points, recordedAtMs, snapshot.State.Tier, balance);
        entry.RuleIds = LoyaltyProgram.ReferralRuleId;
        return Complete(response, entry, points);
    }

    public override void MarkReplayed(ScoreResponse response) => response.Replayed = true;
}
