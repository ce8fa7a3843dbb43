using System.Globalization;
using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>A tier set by hand by support: a floor the member's tier never goes below until its last day.</summary>
/// <param name="floor">The floor tier, or null to remove the member's floor.</param>
/// <param name="untilDay">The floor's last local day as yyyymmdd (0 when removing it).</param>
internal sealed class TierFloorIntent(SetTierRequest request, Tier? floor, int untilDay, long occurredAtMs, LoyaltyProgram program)
    : TransactionIntent<SetTierResponse>(request.TransactionId, request.MemberId, occurredAtMs, program, EntryKind.TierFloor, request)
{
    public const string RuleId = "tier-floor";

    public override bool OccurredOnServerClock => true;

    public override MessageParser<SetTierResponse> Parser => SetTierResponse.Parser;

    protected override PreparedTransaction<SetTierResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var local = Program.Calendar.LocalTime(DateTimeOffset.FromUnixTimeMilliseconds(OccurredAtMs));
        var before = Program.TierPolicy.Current(state, local).Tier;
        var after = floor is null ? before : TierLadder.Higher(before, floor);
        var floorId = floor?.Id ?? string.Empty;
        var until = untilDay.ToString(CultureInfo.InvariantCulture);
        var response = new SetTierResponse
        {
            TransactionId = TransactionId,
            Tier = after.Id,
            PreviousTier = before.Id,
            FloorTier = floorId,
            ValidUntil = floor is null ? string.Empty : request.ValidUntil,
            Reason = request.Reason,
            ProgramVersion = Program.Version,
        };
        var entry = NewEntry(0, recordedAtMs, after.Id, state.Balance);
        entry.RuleIds = RuleId;
        // A tier change by hand restarts the count since the last change, as any other tier change does.
        var sets = TierSets.Record(entry, Program.TierPolicy, state, after, reviewApplied: null,
            new(MemberFields.TierFloor, floorId), new(MemberFields.TierFloorUntil, until));
        return Complete(response, entry, 0, sets: sets);
    }

    public override void MarkReplayed(SetTierResponse response) => response.Replayed = true;
}
