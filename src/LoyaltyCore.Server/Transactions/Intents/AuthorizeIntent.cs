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
        var expiresAtMs = recordedAtMs + (long)lifetime.TotalMilliseconds;
        var response = new AuthorizeResponse
        {
            TransactionId = TransactionId,
            HoldId = TransactionId,
            PointsHeld = request.Points,
            Balance = state.Balance,
            AvailablePoints = state.AvailablePoints - request.Points,
            ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(expiresAtMs)),
            ProgramVersion = Program.Version,
        };
        var entry = NewEntry(0, recordedAtMs, state.Tier, state.Balance);
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        var (increments, sets) = HoldState.Open(entry, TransactionId, request.Points, expiresAtMs);
        return Complete(response, entry, 0, increments, sets, requiredAvailable: request.Points);
    }

    public override void MarkReplayed(AuthorizeResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<AuthorizeResponse>? prepared) =>
        RpcErrors.InsufficientPoints(balance, held, request.Points);

    public override void Observe(PreparedTransaction<AuthorizeResponse> prepared) => metrics.Holds.WithLabels("authorized").Inc();
}
