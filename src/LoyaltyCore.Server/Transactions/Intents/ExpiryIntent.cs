using System.Globalization;
using Google.Protobuf;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>A member with no points due on the run's day: the run writes nothing for them.</summary>
internal sealed class NothingDueException(string memberId) : Exception($"Member '{memberId}' has no points due.");

/// <summary>
/// Expires the member's lots due on a day (expiring on it or before), as one transaction with id
/// <c>expiry:YYYY-MM-DD</c> dated at the day's local midnight: every server and every rerun sends the same request,
/// so the lots of a run expire once, and the row says what they were (its deleted or reduced lot counters).
/// </summary>
internal sealed class ExpiryIntent : TransactionIntent<ExpiryResult>
{
    private readonly int _asOf;
    private readonly LoyaltyMetrics _metrics;

    private ExpiryIntent(ExpiryRequest request, long occurredAtMs, LoyaltyProgram program, LoyaltyMetrics metrics)
        : base(IdFor(request.AsOf), request.MemberId, occurredAtMs, program, EntryKind.Expiry, request)
    {
        _asOf = request.AsOf;
        _metrics = metrics;
    }

    public static ExpiryIntent For(string memberId, int asOf, LoyaltyProgram program, LoyaltyMetrics metrics)
    {
        var midnight = program.Calendar.Instant(ExpiryPolicy.Day(asOf).ToDateTime(TimeOnly.MinValue));
        return new ExpiryIntent(new ExpiryRequest { MemberId = memberId, AsOf = asOf }, midnight.ToUnixTimeMilliseconds(), program, metrics);
    }

    public static string IdFor(int asOf) =>
        ServerTransactionIds.Expiry + ExpiryPolicy.Day(asOf).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public override MessageParser<ExpiryResult> Parser => ExpiryResult.Parser;

    protected override PreparedTransaction<ExpiryResult> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var lots = PointLots.Expire(state, _asOf);
        if (lots.IsEmpty)
        {
            throw new NothingDueException(MemberId);
        }

        var balance = state.Balance + lots.Points;
        var result = new ExpiryResult { TransactionId = TransactionId, PointsExpired = -lots.Points, Balance = balance, AsOf = _asOf };
        var entry = NewEntry(lots.Points, recordedAtMs, state.Tier, balance);
        entry.RuleIds = "expiry";
        // Never refused for points: it takes only what is available.
        return Complete(result, entry, lots.Points, requiredAvailable: 0, lots: lots);
    }

    public override void MarkReplayed(ExpiryResult response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<ExpiryResult> prepared) => _metrics.PointsExpired.Inc(prepared.Response.PointsExpired);
}
