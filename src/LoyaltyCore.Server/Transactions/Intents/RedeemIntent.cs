using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

internal sealed class RedeemIntent(RedeemRequest request, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<RedeemResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Redeem, request)
{
    public override MessageParser<RedeemResponse> Parser => RedeemResponse.Parser;

    protected override PreparedTransaction<RedeemResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var policy = Program.TierPolicy;
        var (local, current, review, reset) = StartDebit(state, recordedAtMs);
        var delta = -(request.Points + reset);
        // On the balance with immediate downgrades, the tier follows the balance the redemption leaves.
        var tierAfter = TierSets.AfterDebit(policy, state, local, current, state.Balance + delta);
        var tier = tierAfter.Id;
        // A snapshot balance that looks too low may be stale: the script has the final word on overdraft.
        var balance = state.Balance + delta;
        var response = new RedeemResponse
        {
            TransactionId = request.TransactionId,
            PointsRedeemed = request.Points,
            Balance = balance,
            Tier = tier,
            ProgramVersion = Program.Version,
            PointsResetAtReview = reset,
        };
        var entry = NewEntry(delta, recordedAtMs, tier, balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        var reviewKey = reset > 0 ? review : null;
        if (reviewKey is null && tier == state.Tier)
        {
            return Complete(response, entry, delta);
        }

        // A review that reset points is recorded here as a purchase would record it (its day and the tier it set),
        // and so is a tier the redemption moved.
        return Complete(response, entry, delta, sets: TierSets.Record(entry, policy, state, tierAfter, reviewKey));
    }

    public override void MarkReplayed(RedeemResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<RedeemResponse>? prepared) =>
        prepared?.Response.PointsResetAtReview is > 0 and var reset
            ? RpcErrors.InsufficientAfterReview(balance, held, reset, request.Points)
            : RpcErrors.InsufficientPoints(balance, held, request.Points);

    public override void Observe(PreparedTransaction<RedeemResponse> prepared)
    {
        metrics.PointsRedeemed.WithLabels(ChannelLabels.Of(request.Channel), prepared.Response.Tier).Inc(request.Points);
        if (prepared.Response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(prepared.Response.PointsResetAtReview);
        }
    }
}
