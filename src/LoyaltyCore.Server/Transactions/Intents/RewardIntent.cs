using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Scoring;
using RewardBlock = LoyaltyCore.Engine.Rewards.RewardBlock;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Claims a reward of the catalogue: spends its cost like a redemption and draws one unit of its stock from the shared
/// budget before the member is changed (given back when the change does not happen), so stock is never oversold. A
/// claim the member may not make on the snapshot is sent as a refusal: the script answers a retry of an applied claim
/// from its record (the limit it reached, or the stock it took, never turns a retry into an error).
/// </summary>
internal sealed class RewardIntent(RedeemRewardRequest request, Reward reward, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<RedeemRewardResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Reward, request)
{
    private Grpc.Core.RpcException? _refusal;

    public override MessageParser<RedeemRewardResponse> Parser => RedeemRewardResponse.Parser;

    protected override PreparedTransaction<RedeemRewardResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        _refusal = null;
        var state = snapshot.State;
        var policy = Program.TierPolicy;
        var (local, current, review, reset) = StartDebit(state, recordedAtMs);
        var response = new RedeemRewardResponse
        {
            TransactionId = request.TransactionId,
            RewardId = reward.Id,
            PointsSpent = reward.Cost,
            ProgramVersion = Program.Version,
            PointsResetAtReview = reset,
        };

        // The window and the tier are taken on the server's clock: a claim dated back cannot reopen them.
        var block = reward.Check(state.WithBalance(state.Balance - reset), current.Id, DateTimeOffset.FromUnixTimeMilliseconds(recordedAtMs));
        if (block is not (RewardBlock.None or RewardBlock.Points))
        {
            _refusal = RpcErrors.RewardUnavailable(reward.Id, Why(block));
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        if (reward.Stock is not null && budgetLimits is not null && budgetLimits.GetValueOrDefault(reward.StockId) < 1)
        {
            _refusal = RpcErrors.RewardUnavailable(reward.Id, "out of stock");
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        var delta = -(reward.Cost + reset);
        var tierAfter = TierSets.AfterDebit(policy, state, local, current, state.Balance + delta);
        var balance = state.Balance + delta;
        response.Balance = balance;
        response.Tier = tierAfter.Id;
        response.Claims = state.Counter(reward.ClaimsKey) + 1;
        var entry = NewEntry(delta, recordedAtMs, tierAfter.Id, balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        entry.RefersTo = reward.Id;
        entry.RuleIds = "reward";
        var reviewKey = reset > 0 ? review : null;
        IReadOnlyList<KeyValuePair<string, string>>? sets = reviewKey is null && tierAfter.Id == state.Tier
            ? null
            : TierSets.Record(entry, policy, state, tierAfter, reviewKey);
        (entry.Changes ??= new StateChanges()).Increments[reward.ClaimsKey] = 1;
        List<CampaignAward>? draws = null;
        // A claim the snapshot cannot afford draws no stock: the script refuses it (or, on a stale snapshot, it is
        // evaluated again on the state Redis has, and draws then), so it never holds a unit another member could claim.
        if (reward.Stock is not null && block != RewardBlock.Points)
        {
            draws = [new CampaignAward(reward.StockId, 1)];
            entry.CampaignDraws.Add(new CampaignDraw { CampaignId = reward.StockId, Points = 1 });
        }

        return Complete(response, entry, delta, [new(reward.ClaimsKey, 1)], sets, draws: draws, requiredAvailable: reward.Cost + reset);
    }

    protected override void Describe(RedeemRewardResponse response, MemberState before, LotChanges lots, long recordedAtMs) =>
        response.NextExpiry = PointMessages.NextExpiry(PointLots.NextExpiry(before, lots));

    public override void MarkReplayed(RedeemRewardResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<RedeemRewardResponse>? prepared) =>
        _refusal ?? (prepared?.Response.PointsResetAtReview is > 0 and var reset
            ? RpcErrors.InsufficientAfterReview(balance, held, reset, reward.Cost)
            : RpcErrors.InsufficientPoints(balance, held, reward.Cost));

    public override void Observe(PreparedTransaction<RedeemRewardResponse> prepared)
    {
        metrics.RewardsClaimed.WithLabels(reward.Id).Inc();
        metrics.PointsRedeemed.WithLabels(ChannelLabels.Of(request.Channel), prepared.Response.Tier).Inc(reward.Cost);
        if (prepared.Response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(prepared.Response.PointsResetAtReview);
        }
    }

    private static string Why(RewardBlock block) => block switch
    {
        RewardBlock.Window => "outside its window",
        RewardBlock.Tier => "the member's tier is not one it allows",
        RewardBlock.Segment => "the member holds none of the segments it allows",
        _ => "the member has reached its per-member limit",
    };
}
