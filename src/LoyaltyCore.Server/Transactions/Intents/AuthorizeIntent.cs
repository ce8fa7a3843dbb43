using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Reserves points while a payment is pending: the balance stays, the points held grow, and Redis applies it only if
/// the available points (balance less points held) cover it, so concurrent holds and redemptions never spend the
/// same points. The hold's id is the authorization's transaction id.
/// </summary>
/// <param name="lifetime">How long the hold lasts, from the server's clock at the authorization.</param>
internal sealed class AuthorizeIntent(AuthorizeRequest request, TimeSpan lifetime, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<AuthorizeResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Hold, request)
{
    public override MessageParser<AuthorizeResponse> Parser => AuthorizeResponse.Parser;

    protected override PreparedTransaction<AuthorizeResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var policy = Program.TierPolicy;
        // As for a redemption: a hold cannot reserve (and a capture then spend) points a due review takes.
        var (local, current, review, reset) = StartDebit(state, recordedAtMs);
        var balance = state.Balance - reset;
        var tierAfter = TierSets.AfterDebit(policy, state, local, current, balance);
        var expiresAtMs = recordedAtMs + (long)lifetime.TotalMilliseconds;
        var response = new AuthorizeResponse
        {
            TransactionId = TransactionId,
            HoldId = TransactionId,
            PointsHeld = request.Points,
            Balance = balance,
            AvailablePoints = state.AvailablePoints - reset - request.Points,
            ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(expiresAtMs)),
            ProgramVersion = Program.Version,
            PointsResetAtReview = reset,
        };
        var entry = NewEntry(-reset, recordedAtMs, tierAfter.Id, balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        var reviewKey = reset > 0 ? review : null;
        List<KeyValuePair<string, string>>? tierSets = null;
        if (reviewKey is not null || tierAfter.Id != state.Tier)
        {
            // Recorded first, then the hold's own changes are added to the same row.
            tierSets = TierSets.Record(entry, policy, state, tierAfter, reviewKey);
        }

        var (increments, sets) = HoldState.Open(entry, TransactionId, request.Points, expiresAtMs);
        if (tierSets is not null)
        {
            sets.AddRange(tierSets);
        }

        return Complete(response, entry, -reset, increments, sets, requiredAvailable: request.Points + reset);
    }

    public override void MarkReplayed(AuthorizeResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<AuthorizeResponse>? prepared) =>
        prepared?.Response.PointsResetAtReview is > 0 and var reset
            ? RpcErrors.InsufficientAfterReview(balance, held, reset, request.Points)
            : RpcErrors.InsufficientPoints(balance, held, request.Points);

    public override void Observe(PreparedTransaction<AuthorizeResponse> prepared)
    {
        metrics.Holds.WithLabels("authorized").Inc();
        if (prepared.Response.PointsResetAtReview > 0)
        {
            metrics.PointsResetAtReview.Inc(prepared.Response.PointsResetAtReview);
        }
    }
}
