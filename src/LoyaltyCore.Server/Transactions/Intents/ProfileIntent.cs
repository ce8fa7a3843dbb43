using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>A change to the member's profile (segments, reference revenue), recorded in the ledger like any other change.</summary>
internal sealed class ProfileIntent(UpdateMemberRequest request, string transactionId, long occurredAtMs, LoyaltyProgram program)
    : TransactionIntent<Empty>(transactionId, request.MemberId, occurredAtMs, program, EntryKind.Profile, request)
{
    public override MessageParser<Empty> Parser => Empty.Parser;

    protected override PreparedTransaction<Empty> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var sets = new List<KeyValuePair<string, string>>(3);
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

        if (request.HasBirthday)
        {
            sets.Add(new(MemberFields.Birthday, request.Birthday));
            changes.Sets[MemberFields.Birthday] = request.Birthday;
        }

        var entry = NewEntry(0, recordedAtMs, snapshot.State.Tier, snapshot.State.Balance);
        entry.Changes = changes;
        return Complete(new Empty(), entry, 0, sets: sets);
    }

    public override void MarkReplayed(Empty response)
    {
    }
}
