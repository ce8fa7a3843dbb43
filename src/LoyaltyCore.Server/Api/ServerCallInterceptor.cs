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
        catch (RpcException ex)
        {
            code = ex.StatusCode;
            throw;
        }
        catch (Exception ex)
        {
            var status = Translate(ex, context);
            code = status.StatusCode;
            if (code == StatusCode.Internal)
            {
                LogUnexpected(logger, ex, context.Method);
            }
            else if (code == StatusCode.Unavailable)
            {
                LogUnavailable(logger, context.Method, ex.Message);
            }

            throw new RpcException(status);
        }
        finally
        {
            metrics.GrpcDuration(context.Method, code).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
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
