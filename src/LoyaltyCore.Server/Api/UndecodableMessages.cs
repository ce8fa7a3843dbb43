using Grpc.Core;

namespace LoyaltyCore.Server.Api;

/// <summary>
/// Messages that do not decode as their protobuf type: each is refused with INVALID_ARGUMENT, and the log gets at
/// most one warning a minute with how many there were, so a client sending garbage cannot flood it.
/// </summary>
internal sealed partial class UndecodableMessages(TimeProvider time, ILogger<UndecodableMessages> logger)
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromMinutes(1);
    private readonly Lock _gate = new();
    // Ticks since year 1: zero means never, and the first refusal is reported at once.
    private long _lastLoggedTicks;
    private long _sinceLastLog;

    public RpcException Refuse(string messageType, Exception failure)
    {
        Interlocked.Increment(ref _sinceLastLog);
        var now = time.GetUtcNow().UtcTicks;
        if (now - Volatile.Read(ref _lastLoggedTicks) >= LogInterval.Ticks)
        {
            long count;
            lock (_gate)
            {
                if (now - _lastLoggedTicks < LogInterval.Ticks)
                {
                    return Refusal(messageType);
                }

                _lastLoggedTicks = now;
                count = Interlocked.Exchange(ref _sinceLastLog, 0);
            }

            LogRefused(logger, count, messageType, failure.Message);
        }

        return Refusal(messageType);
    }

    private static RpcException Refusal(string messageType) =>
        new(new Status(StatusCode.InvalidArgument, $"The message does not decode as {messageType}; nothing was changed."));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Count} message(s) that did not decode since the last report; the latest, as {MessageType}: {Reason}")]
    private static partial void LogRefused(ILogger logger, long count, string messageType, string reason);
}
