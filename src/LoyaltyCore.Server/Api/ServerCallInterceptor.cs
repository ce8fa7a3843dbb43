using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using StackExchange.Redis;

namespace LoyaltyCore.Server.Api;

/// <summary>
/// Counts and times every call (<c>grpc_server_*</c>, unary and streaming alike), and turns failures into the status a
/// client can act on: infrastructure outages become UNAVAILABLE, anything unexpected INTERNAL (logged), never an
/// unhandled exception. A call that returns after its deadline passed or its client left is recorded as what the
/// client saw: DEADLINE_EXCEEDED or CANCELLED, not OK.
/// </summary>
internal sealed partial class ServerCallInterceptor(LoyaltyMetrics metrics, ILogger<ServerCallInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var call = metrics.Grpc(context.Method, GrpcMethodMetrics.TypeName(MethodType.Unary));
        call.Started.Inc();
        call.Received.Inc();
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            var response = await continuation(request, context);
            code = Ended(context);
            if (code == StatusCode.OK)
            {
                call.Sent.Inc();
            }

            return response;
        }
        catch (Exception ex)
        {
            code = Fail(ex, context, out var failure);
            throw failure;
        }
        finally
        {
            call.Handling.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            call.Handled(code).Inc();
        }
    }

    /// <summary>ScoreStream: the stream as a whole is timed; its messages are counted one by one.</summary>
    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = metrics.Grpc(context.Method, GrpcMethodMetrics.TypeName(MethodType.DuplexStreaming));
        call.Started.Inc();
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            await continuation(new CountingReader<TRequest>(requestStream, call.Received), new CountingWriter<TResponse>(responseStream, call.Sent), context);
            code = Ended(context);
        }
        catch (Exception ex)
        {
            code = Fail(ex, context, out var failure);
            throw failure;
        }
        finally
        {
            call.Handling.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            call.Handled(code).Inc();
        }
    }

    /// <summary>Health's Watch: a stream of answers to one request.</summary>
    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request,
        IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = metrics.Grpc(context.Method, GrpcMethodMetrics.TypeName(MethodType.ServerStreaming));
        call.Started.Inc();
        call.Received.Inc();
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.OK;
        try
        {
            await continuation(request, new CountingWriter<TResponse>(responseStream, call.Sent), context);
            code = Ended(context);
        }
        catch (Exception ex)
        {
            code = Fail(ex, context, out var failure);
            throw failure;
        }
        finally
        {
            call.Handling.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            call.Handled(code).Inc();
        }
    }

    /// <summary>
    /// The status a call that returned normally ended with: OK, unless the client stopped waiting first (its deadline
    /// passed, or it cancelled), in which case that is what it saw.
    /// </summary>
    private static StatusCode Ended(ServerCallContext context) =>
        !context.CancellationToken.IsCancellationRequested ? StatusCode.OK
        : context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded
        : StatusCode.Cancelled;

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

internal sealed class CountingReader<T>(IAsyncStreamReader<T> inner, Prometheus.Counter.Child received) : IAsyncStreamReader<T>
{
    public T Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        if (!await inner.MoveNext(cancellationToken))
        {
            return false;
        }

        received.Inc();
        return true;
    }
}

internal sealed class CountingWriter<T>(IServerStreamWriter<T> inner, Prometheus.Counter.Child sent) : IServerStreamWriter<T>
{
    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public async Task WriteAsync(T message)
    {
        await inner.WriteAsync(message);
        sent.Inc();
    }

    public async Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        await inner.WriteAsync(message, cancellationToken);
        sent.Inc();
    }
}
