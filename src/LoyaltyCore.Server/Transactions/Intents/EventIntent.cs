using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>A member event (newsletter subscription, review...): what the program's event rules give for it.</summary>
internal sealed class EventIntent(RecordEventRequest request, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<RecordEventResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Event, request)
{
    public override MessageParser<RecordEventResponse> Parser => RecordEventResponse.Parser;

    protected override PreparedTransaction<RecordEventResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var outcome = Program.RecordEvent(snapshot.State, request.Event, request.OccurredAt.ToDateTimeOffset(), budgetLimits);
        var balance = checked(snapshot.State.Balance + outcome.BalanceDelta);
        var response = new RecordEventResponse
        {
            TransactionId = request.TransactionId,
            Event = request.Event,
            PointsEarned = outcome.PointsEarned,
            Balance = balance,
            Tier = outcome.TierAfter.Id,
            PreviousTier = outcome.TierBefore.Id,
            ProgramVersion = Program.Version,
            Attributes = { request.Attributes },
            PointsResetAtReview = outcome.PointsReset,
        };
        OutcomeChanges.AddBreakdown(outcome, response.Breakdown);
        var entry = NewEntry(outcome.BalanceDelta, recordedAtMs, outcome.TierAfter.Id, balance);
        var changes = OutcomeChanges.Of(outcome, Program, entry, []);
        // Never refused for points: a negative delta is only a review's reset, which the balance always covers.
        return Complete(response, entry, outcome.BalanceDelta, changes.Increments, changes.Sets, outcome.StaleCounters, changes.Draws, requiredAvailable: 0, reset: outcome.PointsReset);
    }

    public override void MarkReplayed(RecordEventResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<RecordEventResponse> prepared)
    {
        var response = prepared.Response;
        // Bounded: only standard events and those the program declares are accepted.
        metrics.EventsRecorded.WithLabels(response.Event).Inc();
        metrics.EventPointsIssued.WithLabels(response.Event).Inc(response.PointsEarned);
        if (response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(response.PointsResetAtReview);
        }

        foreach (var line in response.Breakdown)
        {
            metrics.RulePoints.WithLabels(line.RuleId).Inc(line.Points);
        }

        if (response.PreviousTier != response.Tier)
        {
            metrics.TierUpgrades.WithLabels(response.Tier).Inc();
        }
    }
}
