using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Scoring;

[Authorize(Roles = ClientRoles.Pos)]
internal sealed partial class ScoringGrpcService(
    TransactionPipeline processor,
    MemberDirectory members,
    IOptions<HoldOptions> holds,
    ProgramProvider programs,
    Admission admission,
    IOptions<ScoringOptions> scoring,
    IOptions<HotStateOptions> hotState,
    TimeProvider time,
    LoyaltyMetrics metrics,
    ILogger<ScoringGrpcService> logger) : ScoringService.ScoringServiceBase
{
    public override async Task<ScoreResponse> Score(ScoreRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        return await ScoreAsync(request, context.CancellationToken);
    }

    public override async Task<RedeemResponse> Redeem(RedeemRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return await processor.ProcessAsync(new RedeemIntent(request, programs.Current, metrics), context.CancellationToken);
    }

    public override async Task<RedeemRewardResponse> RedeemReward(RedeemRewardRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var program = programs.Current;
        var reward = program.Rewards.Find(request.RewardId) ?? throw RpcErrors.RewardNotFound(request.RewardId);
        return await processor.ProcessAsync(new RewardIntent(request, reward, program, metrics), context.CancellationToken);
    }

    public override async Task<AuthorizeResponse> Authorize(AuthorizeRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        var lifetime = RequestValidation.Validate(request, scoring.Value, holds.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return await processor.ProcessAsync(new AuthorizeIntent(request, lifetime, programs.Current, metrics), context.CancellationToken);
    }

    public override async Task<CaptureResponse> Capture(CaptureRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var intent = new CaptureIntent(request, programs.Current, metrics);
        return await EndHoldAsync(intent, () => intent.HoldNotOpen, request.MemberId, request.HoldId, context.CancellationToken);
    }

    public override async Task<VoidResponse> Void(VoidRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var intent = new ReleaseHoldIntent(request, expiry: false, programs.Current, metrics);
        return await EndHoldAsync(intent, () => intent.HoldNotOpen, request.MemberId, request.HoldId, context.CancellationToken);
    }

    public override async Task<ReturnResponse> Return(ReturnRequest request, ServerCallContext context)
    {
        using var ticket = admission.Enter();
        RequestValidation.Validate(request, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        var (purchase, purchasedAt) = await members.PurchaseAsync(request.MemberId, request.PurchaseTransactionId, context.CancellationToken)
            ?? throw RpcErrors.PurchaseNotFound(request.MemberId, request.PurchaseTransactionId);
        if (purchase.Lines.Count == 0)
        {
            throw RpcErrors.PurchaseWithoutLines(request.PurchaseTransactionId);
        }

        RequestValidation.ValidateAgainst(request, purchase);
        return await processor.ProcessAsync(new ReturnIntent(request, purchase, purchasedAt, programs.Current, metrics), context.CancellationToken);
    }

    /// <summary>A hold that was not open is one that ended, or NOT_FOUND when the member never had it.</summary>
    private async Task<TResponse> EndHoldAsync<TResponse>(TransactionIntent<TResponse> intent, Func<bool> holdNotOpen, string memberId, string holdId, CancellationToken cancellationToken)
        where TResponse : class, Google.Protobuf.IMessage<TResponse>
    {
        try
        {
            return await processor.ProcessAsync(intent, cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition && holdNotOpen())
        {
            if (!await members.HoldExistsAsync(memberId, holdId, cancellationToken))
            {
                throw RpcErrors.HoldNotFound(memberId, holdId);
            }

            throw;
        }
    }

    /// <summary>
    /// Up to <see cref="ScoringOptions.StreamWindow"/> transactions of the stream are evaluated at once (so they share
    /// ledger commits like concurrent unary calls); answers are written strictly in request order.
    /// </summary>
    public override Task ScoreStream(IAsyncStreamReader<ScoreRequest> requestStream, IServerStreamWriter<ScoreStreamResponse> responseStream, ServerCallContext context) =>
        StreamAnswers.InOrderAsync(
            scoring.Value.StreamWindow,
            position => NextAsync(requestStream, position, context.CancellationToken),
            () => ScoreOneAsync(requestStream.Current, context),
            responseStream,
            context.CancellationToken);

    /// <summary>
    /// A purchase is scored by the version that was active when it happened (a till offline for a while uploads
    /// late): the active one for a purchase dated since its activation, which is nearly every purchase. A request
    /// without a valid time is refused by validation, whichever version checks it.
    /// </summary>
    private Task<ScoreResponse> ScoreAsync(ScoreRequest request, CancellationToken cancellationToken)
    {
        var program = RequestValidation.InstantOf(request.OccurredAt) is { } occurredAt ? programs.ProgramAt(occurredAt) : programs.Current;
        var basket = RequestValidation.Validate(request, program, scoring.Value, time.GetUtcNow(), hotState.Value.ClockSkew);
        return processor.ProcessAsync(new ScoreIntent(request, basket, program, metrics, programs.Current), cancellationToken);
    }

    private async Task<ScoreStreamResponse> ScoreOneAsync(ScoreRequest request, ServerCallContext context)
    {
        var answer = new ScoreStreamResponse { TransactionId = request.TransactionId };
        try
        {
            using var ticket = admission.Enter();
            answer.Response = await ScoreAsync(request, context.CancellationToken);
        }
        catch (Exception ex)
        {
            if (ex is not RpcException and not OperationCanceledException)
            {
                LogStreamFailure(logger, ex, request.TransactionId);
            }

            answer.Error = (ex as RpcException)?.GetRpcStatus() ?? ToRpcStatus(ServerCallInterceptor.Translate(ex, context));
        }

        return answer;
    }

    /// <summary>Reads the next message; one that does not decode ends the stream naming its position (1-based).</summary>
    private static async Task<bool> NextAsync(IAsyncStreamReader<ScoreRequest> requestStream, int position, CancellationToken cancellationToken)
    {
        try
        {
            return await requestStream.MoveNext(cancellationToken);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.InvalidArgument)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Message {position} of the stream: {ex.Status.Detail} The messages before it were answered."));
        }
    }

    private static Google.Rpc.Status ToRpcStatus(Status status) => new() { Code = (int)status.StatusCode, Message = status.Detail };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure scoring {TransactionId} in a stream")]
    private static partial void LogStreamFailure(ILogger logger, Exception exception, string transactionId);
}
