using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>The referrer's reward for a referred member's first qualifying purchase: once per referred member, ever.</summary>
internal sealed class ReferralIntent(string referrerId, string refereeId, long points, long occurredAtMs, LoyaltyProgram program)
    : TransactionIntent<ScoreResponse>(ServerTransactionIds.Referral + refereeId, referrerId, occurredAtMs, program, EntryKind.Referral, new StringValue { Value = refereeId })
{
    public override MessageParser<ScoreResponse> Parser => ScoreResponse.Parser;

    protected override PreparedTransaction<ScoreResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
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
