using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Points credited or debited by hand by an operator. It changes the balance only: no rule fires and no spend,
/// points-earned or cap counter moves; with tiers on the balance the tier follows it as on any balance change.
/// A debit is refused when the balance cannot cover it, unless forced.
/// </summary>
/// <param name="operatorId">The authenticated client making the adjustment (never taken from the request).</param>
internal sealed class AdjustmentIntent(AdjustPointsRequest request, string operatorId, long occurredAtMs, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<AdjustPointsResponse>(request.TransactionId, request.MemberId, occurredAtMs, program, EntryKind.Adjustment, request)
{
    public const string RuleId = "adjustment";

    public override bool OccurredOnServerClock => true;

    public override MessageParser<AdjustPointsResponse> Parser => AdjustPointsResponse.Parser;

    protected override PreparedTransaction<AdjustPointsResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var policy = Program.TierPolicy;
        var (local, current, review, reset) = StartDebit(state, recordedAtMs);
        var delta = request.Points - reset;
        var balance = state.Balance + delta;
        var tierAfter = policy.Metric == QualificationMetric.Balance ? policy.After(state, local, current, balance) : current;
        var response = new AdjustPointsResponse
        {
            TransactionId = TransactionId,
            Points = request.Points,
            Balance = balance,
            Tier = tierAfter.Id,
            Reason = request.Reason,
            Note = request.Note,
            OperatorId = operatorId,
            Forced = request.Force,
            ProgramVersion = Program.Version,
            PointsResetAtReview = reset,
        };
        var entry = NewEntry(delta, recordedAtMs, tierAfter.Id, balance);
        entry.RuleIds = RuleId;
        var reviewKey = reset > 0 ? review : null;
        if (reviewKey is null && tierAfter.Id == state.Tier)
        {
            return Complete(response, entry, delta, requiredAvailable: Required, reset: reset);
        }

        return Complete(response, entry, delta, sets: TierSets.Record(entry, policy, state, tierAfter, reviewKey), requiredAvailable: Required, reset: reset);
    }

    // A credit or a forced debit needs no available points (a credit's delta is negative only by a due review's reset,
    // which the balance covers); a debit needs its points and what the review resets (null: minus the delta).
    private long? Required => request.Force || request.Points > 0 ? 0 : null;

    public override void MarkReplayed(AdjustPointsResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<AdjustPointsResponse> prepared)
    {
        var reason = ReasonLabel(request.Reason);
        var direction = request.Points > 0 ? "credit" : "debit";
        metrics.PointsAdjusted.WithLabels(direction, reason).Inc(Math.Abs(request.Points));
        metrics.Adjustments.WithLabels(request.Force ? "forced_debit" : direction, reason).Inc();
        if (prepared.Response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(prepared.Response.PointsResetAtReview);
        }
    }

    /// <summary>The reason as a metric label, a bounded set: the enum's name without its prefix, lower case (goodwill, fraud...).</summary>
    private static string ReasonLabel(AdjustmentReason reason) => reason.ToString().ToLowerInvariant();
}
