using System.Runtime.CompilerServices;
using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

/// <summary>Sends a slot's request as one unary call (Score, Redeem or Echo) and reports how it came back.</summary>
internal sealed class UnaryInvoker
{
    private readonly ScoringService.ScoringServiceClient[] _scoring;
    private readonly EchoService.EchoServiceClient[]? _echo;
    private readonly Metadata _headers;
    private readonly TimeSpan _timeout;

    public UnaryInvoker(GrpcConnections connections, bool echo, TimeSpan timeout)
    {
        _scoring = [.. connections.Channels.Select(c => new ScoringService.ScoringServiceClient(c))];
        _echo = echo ? [.. connections.Channels.Select(c => new EchoService.EchoServiceClient(c))] : null;
        _headers = connections.Headers;
        _timeout = timeout;
    }

    public int Channels => _scoring.Length;

    /// <summary>Never throws for a failed call: the status is the outcome.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<CallOutcome> InvokeAsync(CallSlot slot, int channel, CancellationToken cancellationToken)
    {
        var options = new CallOptions(_headers, DateTime.UtcNow + _timeout, cancellationToken);
        try
        {
            if (slot.Kind == CallKind.Redeem)
            {
                using var redeem = _scoring[channel].RedeemAsync(slot.Redeem, options);
                return new CallOutcome(StatusCode.OK, (await redeem.ResponseAsync).Replayed);
            }

            if (_echo is not null)
            {
                using var echo = _echo[channel].EchoAsync(slot.Score, options);
                await echo.ResponseAsync;
                return new CallOutcome(StatusCode.OK, false);
            }

            using var score = _scoring[channel].ScoreAsync(slot.Score, options);
            return new CallOutcome(StatusCode.OK, (await score.ResponseAsync).Replayed);
        }
        catch (RpcException e)
        {
            return new CallOutcome(e.StatusCode, false);
        }
    }
}
