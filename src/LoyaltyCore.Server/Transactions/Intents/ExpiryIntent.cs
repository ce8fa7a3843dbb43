using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Expires the member's lots due on a day (expiring on it or before), as one transaction with id
/// <c>expiry:YYYY-MM-DD</c> dated at the day's local midnight: every server and every rerun sends the same request,
/// so the lots of a run expire once, and the row says what they were (its deleted or reduced lot counters). When the
/// points due are all held by open holds, the row expires nothing and marks the member for the next day's run.
/// </summary>
internal sealed class ExpiryIntent : TransactionIntent<ExpiryResult>
{
    /// <summary>The refusal of a member with nothing due: the run writes nothing for them.</summary>
    public static readonly Status NothingDue = new(StatusCode.FailedPrecondition, "The member has no points due.");

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
        var result = new ExpiryResult { TransactionId = TransactionId, AsOf = _asOf };
        if (lots.Points == 0 && lots.LotExpiresOn == 0)
        {
            // Nothing due on this snapshot: refused through the script, whose version check sends it back to be
            // evaluated again when the snapshot is not the state Redis has (another server added a lot since).
            return Refuse(result, recordedAtMs, state.Tier, state.Balance);
        }

        var balance = state.Balance + lots.Points;
        result.PointsExpired = -lots.Points;
        result.Balance = balance;
        // On the balance with immediate downgrades, the tier follows the balance the expiry leaves, as for any debit.
        var policy = Program.TierPolicy;
        var local = Program.Calendar.LocalTime(DateTimeOffset.FromUnixTimeMilliseconds(recordedAtMs));
        var tierAfter = TierSets.AfterDebit(policy, state, local, policy.Current(state, local).Tier, balance);
        var entry = NewEntry(lots.Points, recordedAtMs, tierAfter.Id, balance);
        entry.RuleIds = "expiry";
        var sets = tierAfter.Id == state.Tier ? null : TierSets.Record(entry, policy, state, tierAfter, null);
        // Never refused for points: it takes only what is available.
        return Complete(result, entry, lots.Points, sets: sets, requiredAvailable: 0, lots: lots);
    }

    public override void MarkReplayed(ExpiryResult response) => response.Replayed = true;

    public override RpcException Insufficient(long balance, long held, PreparedTransaction<ExpiryResult>? prepared) => new(NothingDue);

    public override void Observe(PreparedTransaction<ExpiryResult> prepared) => _metrics.PointsExpired.Inc(prepared.Response.PointsExpired);
}
