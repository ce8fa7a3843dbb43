using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Spends up to a hold's points and releases the rest, ending the hold. The points were reserved, so the capture
/// needs no available points of its own. A hold that is not open, is past its expiry or holds fewer points is refused
/// (unless this is a retry of a capture that was applied: the script answers that from its record).
/// </summary>
internal sealed class CaptureIntent(CaptureRequest request, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<CaptureResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Capture, request)
{
    private Grpc.Core.RpcException? _refusal;

    public override MessageParser<CaptureResponse> Parser => CaptureResponse.Parser;

    /// <summary>The hold was not open on the state the capture was evaluated on (whether it ever existed, the ledger tells).</summary>
    public bool HoldNotOpen { get; private set; }

    protected override PreparedTransaction<CaptureResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var response = new CaptureResponse { TransactionId = TransactionId, HoldId = request.HoldId, ProgramVersion = Program.Version };
        HoldNotOpen = false;
        _refusal = null;
        if (HoldState.Find(state, request.HoldId) is not { } hold)
        {
            HoldNotOpen = true;
            _refusal = RpcErrors.HoldEnded(request.HoldId);
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        if (hold.ExpiresAtMs <= recordedAtMs)
        {
            _refusal = RpcErrors.HoldExpired(request.HoldId, DateTimeOffset.FromUnixTimeMilliseconds(hold.ExpiresAtMs));
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        if (request.Points > hold.Points)
        {
            _refusal = RpcErrors.CaptureBeyondHold(request.HoldId, hold.Points, request.Points);
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        var policy = Program.TierPolicy;
        // A review that fell due after the authorization is left to the member's next transaction (docs/PROGRAM.md).
        var (local, current, _, _) = StartDebit(state, recordedAtMs);
        var balance = state.Balance - request.Points;
        var tierAfter = TierSets.AfterDebit(policy, state, local, current, balance);
        response.PointsCaptured = request.Points;
        response.PointsReleased = hold.Points - request.Points;
        response.Balance = balance;
        response.AvailablePoints = state.AvailablePoints + hold.Points - request.Points;
        response.Tier = tierAfter.Id;
        var entry = NewEntry(-request.Points, recordedAtMs, tierAfter.Id, balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        // The tier it moved to first, then the hold's end is added to the same row's changes.
        var sets = tierAfter.Id != state.Tier ? TierSets.Record(entry, policy, state, tierAfter, null) : null;
        var (increments, deletes) = HoldState.End(entry, hold);

        return Complete(response, entry, -request.Points, increments, sets, deletes, requiredAvailable: 0);
    }

    public override void MarkReplayed(CaptureResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<CaptureResponse>? prepared) =>
        _refusal ?? RpcErrors.HoldEnded(request.HoldId);

    public override void Observe(PreparedTransaction<CaptureResponse> prepared)
    {
        metrics.Holds.WithLabels("captured").Inc();
        metrics.PointsRedeemed.WithLabels(ChannelLabels.Of(request.Channel), prepared.Response.Tier).Inc(request.Points);
    }
}
