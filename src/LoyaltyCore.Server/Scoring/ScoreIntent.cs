using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Scoring;

internal sealed class ScoreIntent(ScoreRequest request, Basket basket, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<ScoreResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, (byte)EntryKind.Earn, request)
{
    public override bool EnrollsUnknownMember => Program.AutoEnroll;

    public override MessageParser<ScoreResponse> Parser => ScoreResponse.Parser;

    public override PreparedTransaction<ScoreResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs)
    {
        var outcome = Program.Score(snapshot.ToState(), basket);
        var balance = checked(snapshot.Balance + outcome.PointsEarned);
        var response = new ScoreResponse
        {
            TransactionId = request.TransactionId,
            PointsEarned = outcome.PointsEarned,
            Balance = balance,
            Tier = outcome.TierAfter.Id,
            PreviousTier = outcome.TierBefore.Id,
            ProgramVersion = Program.Version,
            SpendMinor = outcome.SpendMinor,
            TierProgress = outcome.Progress is { } progress
                ? new TierProgress { NextTier = progress.NextTier.Id, SpendToNextTierMinor = progress.SpendToNextTierMinor }
                : null,
        };

        var ruleIds = new string[outcome.Breakdown.Count];
        for (var i = 0; i < outcome.Breakdown.Count; i++)
        {
            var line = outcome.Breakdown[i];
            response.Breakdown.Add(new BreakdownEntry { RuleId = line.RuleId, Points = line.Points, Reason = line.Reason });
            ruleIds[i] = line.RuleId;
        }

        var entry = new LedgerEntry
        {
            TransactionId = request.TransactionId,
            MemberId = request.MemberId,
            Kind = EntryKind.Earn,
            Points = outcome.PointsEarned,
            SpendMinor = outcome.SpendMinor,
            StoreId = request.StoreId,
            Channel = (int)request.Channel,
            OccurredAtUnixMs = OccurredAtMs,
            RecordedAtUnixMs = recordedAtMs,
            ProgramVersion = Program.Version,
            RuleIds = string.Join(',', ruleIds),
            TierAfter = outcome.TierAfter.Id,
            BalanceAfter = balance,
        };

        var after = snapshot with
        {
            Balance = balance,
            LifetimeSpendMinor = snapshot.LifetimeSpendMinor + outcome.SpendMinor,
            Tier = outcome.TierAfter.Id,
            Purchases = snapshot.Purchases + 1,
        };
        return Complete(response, entry, outcome.PointsEarned, outcome.SpendMinor, after);
    }

    public override void MarkReplayed(ScoreResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<ScoreResponse> prepared)
    {
        var channel = ChannelLabels.Of(request.Channel);
        var tier = prepared.Response.Tier;
        metrics.TransactionsScored.WithLabels(channel, tier).Inc();
        metrics.PointsIssued.WithLabels(channel, tier).Inc(prepared.Response.PointsEarned);
        metrics.SpendMinor.WithLabels(channel).Inc(prepared.Response.SpendMinor);
        if (prepared.Response.PreviousTier != tier)
        {
            metrics.TierUpgrades.WithLabels(tier).Inc();
        }
    }
}

internal sealed class RedeemIntent(RedeemRequest request, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<RedeemResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, (byte)EntryKind.Redeem, request)
{
    public override MessageParser<RedeemResponse> Parser => RedeemResponse.Parser;

    public override PreparedTransaction<RedeemResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs)
    {
        // A snapshot balance that looks too low may be stale: the script has the final word on overdraft.
        var balance = snapshot.Balance - request.Points;
        var tier = Program.Tiers.Resolve(snapshot.Tier, snapshot.LifetimeSpendMinor).Id;
        var response = new RedeemResponse
        {
            TransactionId = request.TransactionId,
            PointsRedeemed = request.Points,
            Balance = balance,
            Tier = tier,
            ProgramVersion = Program.Version,
        };
        var entry = new LedgerEntry
        {
            TransactionId = request.TransactionId,
            MemberId = request.MemberId,
            Kind = EntryKind.Redeem,
            Points = -request.Points,
            StoreId = request.StoreId,
            Channel = (int)request.Channel,
            OccurredAtUnixMs = OccurredAtMs,
            RecordedAtUnixMs = recordedAtMs,
            ProgramVersion = Program.Version,
            RuleIds = string.Empty,
            TierAfter = tier,
            BalanceAfter = balance,
        };
        return Complete(response, entry, -request.Points, 0, snapshot with { Balance = balance });
    }

    public override void MarkReplayed(RedeemResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<RedeemResponse> prepared) =>
        metrics.PointsRedeemed.WithLabels(ChannelLabels.Of(request.Channel), prepared.Response.Tier).Inc(request.Points);
}

internal static class ChannelLabels
{
    private static readonly string[] Labels = ["unspecified", "store", "web", "mobile_app", "partner", "call_center"];

    public static string Of(LoyaltyCore.Contracts.V1.Channel channel) =>
        (uint)channel < (uint)Labels.Length ? Labels[(int)channel] : "unknown";
}
