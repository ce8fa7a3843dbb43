using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using StackExchange.Redis;

namespace LoyaltyCore.Server.Api;

/// <summary>
/// Times every call by method and status code, and turns failures into the status a client can act on:
/// infrastructure outages become UNAVAILABLE, anything unexpected INTERNAL (logged), never an unhandled exception.
/// </summary>
internal sealed partial class ServerCallInterceptor(LoyaltyMetrics metrics, ILogger<ServerCallInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex)
        {
            code = Fail(ex, context, out var failure);
            throw failure;
        }
        finally
        {
            metrics.GrpcDuration(context.Method, code).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary>ScoreStream: the stream as a whole is timed (its messages answer one by one inside it).</summary>
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex)
        {
            code = Fail(ex, context, out var failure);
            throw failure;
        }
        finally
        {
            metrics.GrpcDuration(context.Method, code).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private StatusCode Fail(Exception exception, ServerCallContext context, out RpcException failure)
    {
        if (exception is RpcException rpc)
        {
            failure = rpc;
            return rpc.StatusCode;
        }

        var status = Translate(exception, context);
        if (status.StatusCode == StatusCode.Internal)
        {
            LogUnexpected(logger, exception, context.Method);
        }
        else if (status.StatusCode == StatusCode.Unavailable)
        {
            LogUnavailable(logger, context.Method, exception.Message);
        }

        failure = new RpcException(status);
        return status.StatusCode;
    }

    /// <summary>The status a failure is answered with (shared with ScoreStream, which answers per message).</summary>
    public static Status Translate(Exception exception, ServerCallContext context) => exception switch
    {
        RpcException rpc => rpc.Status,
        OperationCanceledException when context.Deadline <= DateTime.UtcNow => new Status(StatusCode.DeadlineExceeded, "The deadline passed before the transaction was applied; nothing was changed."),
        OperationCanceledException => new Status(StatusCode.Cancelled, "The call was cancelled before the transaction was applied; nothing was changed."),
        LedgerUnavailableException => RpcErrors.LedgerUnavailable,
        System.Threading.Channels.ChannelClosedException => RpcErrors.ShuttingDown,
        RedisException or RedisTimeoutException or RedisConnectionException => RpcErrors.HotStateUnavailable,
        System.Data.Common.DbException => RpcErrors.LedgerUnavailable,
        _ => RpcErrors.Internal,
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure in {Method}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} answered UNAVAILABLE: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string method, string reason);
}
