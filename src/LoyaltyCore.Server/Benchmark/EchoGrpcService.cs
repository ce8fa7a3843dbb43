using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Benchmark;

/// <summary>
/// The transport alone (Echo): the same messages, authentication, interceptor and channels as Score, and no work;
/// and the floor under a durable answer (see <see cref="DurableFloor"/>).
/// </summary>
[Authorize(Roles = ClientRoles.Pos)]
internal sealed class EchoGrpcService(DurableFloor floor, IOptions<ScoringOptions> scoring) : EchoService.EchoServiceBase
{
    public override Task<ScoreResponse> Echo(ScoreRequest request, ServerCallContext context) =>
        Task.FromResult(new ScoreResponse { TransactionId = request.TransactionId });

    public override Task<ScoreResponse> EchoRedis(ScoreRequest request, ServerCallContext context) =>
        WriteAsync(FloorParts.HotState, request);

    public override Task<ScoreResponse> EchoLedger(ScoreRequest request, ServerCallContext context) =>
        WriteAsync(FloorParts.Ledger, request);

    public override Task<ScoreResponse> EchoDurable(ScoreRequest request, ServerCallContext context) =>
        WriteAsync(FloorParts.Both, request);

    public override Task EchoStream(IAsyncStreamReader<ScoreRequest> requestStream, IServerStreamWriter<ScoreStreamResponse> responseStream, ServerCallContext context) =>
        StreamAsync(parts: null, requestStream, responseStream, context);

    public override Task EchoDurableStream(IAsyncStreamReader<ScoreRequest> requestStream, IServerStreamWriter<ScoreStreamResponse> responseStream, ServerCallContext context) =>
        StreamAsync(FloorParts.Both, requestStream, responseStream, context);

    /// <summary>As ScoreStream: a window of messages in progress at once, answered strictly in request order.</summary>
    private Task StreamAsync(FloorParts? parts, IAsyncStreamReader<ScoreRequest> requestStream, IServerStreamWriter<ScoreStreamResponse> responseStream, ServerCallContext context) =>
        StreamAnswers.InOrderAsync(
            scoring.Value.StreamWindow,
            _ => requestStream.MoveNext(context.CancellationToken),
            () => parts is { } written
                ? AnswerAsync(written, requestStream.Current)
                : Task.FromResult(new ScoreStreamResponse { TransactionId = requestStream.Current.TransactionId, Response = new ScoreResponse { TransactionId = requestStream.Current.TransactionId } }),
            responseStream,
            context.CancellationToken);

    /// <summary>A failed write is that message's answer, as in ScoreStream: the stream goes on.</summary>
    private async Task<ScoreStreamResponse> AnswerAsync(FloorParts parts, ScoreRequest request)
    {
        var answer = new ScoreStreamResponse { TransactionId = request.TransactionId };
        try
        {
            answer.Response = await WriteAsync(parts, request);
        }
        catch (Exception ex)
        {
            answer.Error = ex is RpcException rpc
                ? new Google.Rpc.Status { Code = (int)rpc.StatusCode, Message = rpc.Status.Detail }
                : new Google.Rpc.Status { Code = (int)StatusCode.Unavailable, Message = ex.Message };
        }

        return answer;
    }

    private async Task<ScoreResponse> WriteAsync(FloorParts parts, ScoreRequest request)
    {
        // As many points as the basket has lines: something per request that the writes must carry.
        await floor.WriteAsync(parts, request.MemberId, request.TransactionId, request.Lines.Count);
        return new ScoreResponse { TransactionId = request.TransactionId };
    }
}
