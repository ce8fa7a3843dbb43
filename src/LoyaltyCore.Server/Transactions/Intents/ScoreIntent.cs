using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <param name="program">The version active when the purchase happened.</param>
/// <param name="activeProgram">The version active now, when the purchase is uploaded.</param>
internal sealed class ScoreIntent(ScoreRequest request, Basket basket, LoyaltyProgram program, LoyaltyMetrics metrics, LoyaltyProgram? activeProgram = null)
    : TransactionIntent<ScoreResponse>(request.TransactionId, request.MemberId, basket.OccurredAt.ToUnixTimeMilliseconds(), program, EntryKind.Earn, request, activeProgram)
{
    // Enrolment happens now, so the active version decides it, whenever the purchase happened.
    public override bool EnrollsUnknownMember => ActiveProgram.AutoEnroll;

    public override MessageParser<ScoreResponse> Parser => ScoreResponse.Parser;

    protected override bool IsActivity => true;

    // The nudge is the active catalogue's, now: what the member could claim next, whatever version scored a late purchase.
    protected override void Describe(ScoreResponse response, MemberState before, LotChanges lots, long recordedAtMs)
    {
        response.NextExpiry = PointMessages.NextExpiry(PointLots.NextExpiry(before, lots));
        if (ActiveProgram.Rewards.Rewards.Count > 0)
        {
            // The nudge reads the available points, segments and claims: the balance is all a purchase moves of them.
            response.Nudge = PointMessages.Nudge(ActiveProgram.Rewards.NudgeFor(before.WithBalance(response.Balance), response.Tier, DateTimeOffset.FromUnixTimeMilliseconds(recordedAtMs)));
        }
    }

    protected override PreparedTransaction<ScoreResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var outcome = Program.Score(snapshot.State, basket, budgetLimits);
        var balance = checked(snapshot.State.Balance + outcome.BalanceDelta);
        var response = new ScoreResponse
        {
            TransactionId = request.TransactionId,
            PointsEarned = outcome.PointsEarned,
            Balance = balance,
            Tier = outcome.TierAfter.Id,
            PreviousTier = outcome.TierBefore.Id,
            ProgramVersion = Program.Version,
            SpendMinor = outcome.SpendMinor,
            TierProgress = Progress.ToMessage(Program, outcome.Progress),
            PointsResetAtReview = outcome.PointsReset,
        };

        OutcomeChanges.AddBreakdown(outcome, response.Breakdown);
        foreach (var line in basket.Lines)
        {
            response.Lines.Add(new ScoredLine { Quantity = line.Quantity, TotalMinor = line.TotalMinor, Earns = !Program.IsExcluded(line) });
        }

        var entry = NewEntry(outcome.BalanceDelta, recordedAtMs, outcome.TierAfter.Id, balance);
        entry.SpendMinor = outcome.SpendMinor;
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        var changes = OutcomeChanges.Of(outcome, Program, entry, [new(MemberFields.LifetimeSpend, outcome.SpendMinor), new(MemberFields.Purchases, 1)]);
        if (outcome.ReferrerReward is { } reward)
        {
            entry.ReferrerId = reward.ReferrerId;
            entry.ReferrerPoints = reward.Points;
        }

        // Never refused for points: a negative delta is only a review's reset, which the balance always covers.
        return Complete(response, entry, outcome.BalanceDelta, changes.Increments, changes.Sets, outcome.StaleCounters, changes.Draws, requiredAvailable: 0, reset: outcome.PointsReset);
    }

    public override void MarkReplayed(ScoreResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<ScoreResponse> prepared)
    {
        var response = prepared.Response;
        var channel = ChannelLabels.Of(request.Channel);
        var (scored, issued) = metrics.Scoring(channel, response.Tier);
        scored.Inc();
        issued.Inc(response.PointsEarned);
        metrics.SpendMinor.WithLabels(channel).Inc(response.SpendMinor);
        if (response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(response.PointsResetAtReview);
        }

        if (response.PreviousTier != response.Tier)
        {
            metrics.TierUpgrades.WithLabels(response.Tier).Inc();
        }

        foreach (var line in response.Breakdown)
        {
            metrics.RulePoints.WithLabels(line.RuleId).Inc(line.Points);
            if (line.RuleId.Contains('@', StringComparison.Ordinal))
            {
                metrics.ObjectiveSteps.WithLabels(line.RuleId).Inc();
            }
            else if (line.RuleId == LoyaltyProgram.ReferralRuleId)
            {
                metrics.ReferralsRewarded.Inc();
            }
        }
    }
}
