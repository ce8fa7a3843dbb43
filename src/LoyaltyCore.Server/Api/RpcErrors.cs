using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Status = Grpc.Core.Status;

namespace LoyaltyCore.Server.Api;

/// <summary>Every error a client can receive, each with a message that says what to do about it.</summary>
internal static class RpcErrors
{
    public static readonly Status Contention = new(
        StatusCode.Unavailable, "The member's state changed repeatedly during this call; retry with the same transaction_id.");

    public static readonly Status LedgerUnavailable = new(
        StatusCode.Unavailable, "The ledger is unavailable; the transaction is not confirmed. Retry with the same transaction_id.");

    public static readonly Status HotStateUnavailable = new(
        StatusCode.Unavailable, "The hot state store is unavailable; nothing was changed. Retry with the same transaction_id.");

    public static readonly Status ShuttingDown = new(
        StatusCode.Unavailable, "The server is shutting down; the transaction is not confirmed. Retry with the same transaction_id.");

    public static readonly Status Overloaded = new(
        StatusCode.ResourceExhausted, "The server is at capacity; nothing was changed. Retry with backoff and the same transaction_id.");

    public static readonly Status Internal = new(StatusCode.Internal, "Internal error; nothing was confirmed. Retry with the same transaction_id.");

    public static RpcException InvalidArgument(IReadOnlyList<BadRequest.Types.FieldViolation> violations)
    {
        var summary = violations.Count == 1
            ? $"{violations[0].Field}: {violations[0].Description}"
            : $"{violations.Count} invalid fields, first {violations[0].Field}: {violations[0].Description}";
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations);
        return new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = summary,
            Details = { Any.Pack(badRequest) },
        }.ToRpcException();
    }

    public static RpcException InvalidArgument(string field, string description) =>
        InvalidArgument([new BadRequest.Types.FieldViolation { Field = field, Description = description }]);

    public static RpcException MemberNotFound(string memberId) =>
        new(new Status(StatusCode.NotFound, $"Member '{memberId}' is not enrolled."));

    public static RpcException TransactionIdReused(string transactionId) =>
        new(new Status(StatusCode.AlreadyExists, $"transaction_id '{transactionId}' was already used for a different request; a retry must resend identical content."));

    public static RpcException InsufficientPoints(long balance, long held, long requested) =>
        new(new Status(StatusCode.FailedPrecondition, $"Insufficient points: the balance is {balance}{HeldPart(balance, held)}, {requested} requested."));

    public static RpcException InsufficientAfterReview(long balance, long held, long reset, long requested) =>
        new(new Status(StatusCode.FailedPrecondition,
            $"Insufficient points: the balance is {balance}{HeldPart(balance, held)}, of which the tier review due now resets {reset}; {requested} requested."));

    public static RpcException HoldNotFound(string memberId, string holdId) =>
        new(new Status(StatusCode.NotFound, $"Member '{memberId}' has no hold '{holdId}'."));

    public static RpcException HoldEnded(string holdId) =>
        new(new Status(StatusCode.FailedPrecondition, $"Hold '{holdId}' has already ended (captured, voided or expired)."));

    public static RpcException HoldExpired(string holdId, DateTimeOffset expiredAt) =>
        new(new Status(StatusCode.FailedPrecondition, $"Hold '{holdId}' expired at {expiredAt:yyyy-MM-ddTHH:mm:ss.fffZ}; its points are being released."));

    public static RpcException CaptureBeyondHold(string holdId, long held, long requested) =>
        new(new Status(StatusCode.FailedPrecondition, $"Hold '{holdId}' holds {held} points; {requested} cannot be captured."));

    public static RpcException PurchaseNotFound(string memberId, string purchaseId) =>
        new(new Status(StatusCode.NotFound, $"Member '{memberId}' has no scored purchase '{purchaseId}'."));

    public static RpcException PurchaseWithoutLines(string purchaseId) =>
        new(new Status(StatusCode.FailedPrecondition, $"Purchase '{purchaseId}' was scored before returns were recorded per line; it cannot be returned here."));

    public static RpcException BeyondReturnable(string purchaseId, int line, long returnable, long requested) =>
        new(new Status(StatusCode.FailedPrecondition, $"Line {line} of purchase '{purchaseId}': {returnable} returnable, {requested} requested."));

    public static RpcException NothingToReturn(string purchaseId) =>
        new(new Status(StatusCode.FailedPrecondition, $"Nothing of purchase '{purchaseId}' is left to return."));

    public static RpcException RewardNotFound(string rewardId) =>
        new(new Status(StatusCode.NotFound, $"The program has no reward '{rewardId}'."));

    public static RpcException RewardUnavailable(string rewardId, string why) =>
        new(new Status(StatusCode.FailedPrecondition, $"Reward '{rewardId}' cannot be claimed: {why}."));

    private static string HeldPart(long balance, long held) => held == 0 ? string.Empty : $" with {held} held ({balance - held} available)";
}
