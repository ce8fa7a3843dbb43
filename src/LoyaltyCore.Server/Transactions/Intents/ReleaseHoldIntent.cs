using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Releases a hold's points without spending any, ending the hold: a void from the till, or the expiry run's
/// release of a hold past its expiry (transaction id <c>hold-expired:&lt;hold id&gt;</c>, the same on every server, so
/// a hold is released once however many servers run). A hold that is not open is refused unless this is a retry.
/// </summary>
/// <param name="expiry">Released by the expiry run rather than voided.</param>
internal sealed class ReleaseHoldIntent(VoidRequest request, bool expiry, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<VoidResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.HoldRelease, request)
{
    public override MessageParser<VoidResponse> Parser => VoidResponse.Parser;

    /// <summary>The hold was not open on the state the release was evaluated on.</summary>
    public bool HoldNotOpen { get; private set; }

    protected override PreparedTransaction<VoidResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var response = new VoidResponse { TransactionId = TransactionId, HoldId = request.HoldId, Balance = state.Balance, ProgramVersion = Program.Version };
        var open = HoldState.Find(state, request.HoldId);
        HoldNotOpen = open is null;
        if (open is not { } hold)
        {
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        response.PointsReleased = hold.Points;
        response.AvailablePoints = state.AvailablePoints + hold.Points;
        var entry = NewEntry(0, recordedAtMs, state.Tier, state.Balance);
        var (increments, deletes) = HoldState.End(entry, hold);
        return Complete(response, entry, 0, increments, deletes: deletes, requiredAvailable: 0);
    }

    public override void MarkReplayed(VoidResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<VoidResponse>? prepared) =>
        RpcErrors.HoldEnded(request.HoldId);

    public override void Observe(PreparedTransaction<VoidResponse> prepared) => metrics.Holds.WithLabels(expiry ? "expired" : "voided").Inc();
}
