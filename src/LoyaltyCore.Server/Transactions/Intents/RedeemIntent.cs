using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

internal sealed class RedeemIntent(RedeemRequest request, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<RedeemResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Redeem, request)
{
    public override MessageParser<RedeemResponse> Parser => RedeemResponse.Parser;

    public override PreparedTransaction<RedeemResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        // A snapshot balance that looks too low may be stale: the script has the final word on overdraft.
        var balance = snapshot.State.Balance - request.Points;
        var tier = Program.TierPolicy.Current(snapshot.State, Program.Calendar.LocalTime(DateTimeOffset.FromUnixTimeMilliseconds(OccurredAtMs))).Tier.Id;
        var response = new RedeemResponse
        {
            TransactionId = request.TransactionId,
            PointsRedeemed = request.Points,
            Balance = balance,
            Tier = tier,
            ProgramVersion = Program.Version,
        };
        var entry = NewEntry(-request.Points, recordedAtMs, tier, balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        return Complete(response, entry, -request.Points);
    }

    public override void MarkReplayed(RedeemResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<RedeemResponse> prepared) =>
        metrics.PointsRedeemed.WithLabels(ChannelLabels.Of(request.Channel), prepared.Response.Tier).Inc(request.Points);
}
