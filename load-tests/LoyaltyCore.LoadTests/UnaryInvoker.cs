using System.Runtime.CompilerServices;
using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

/// <summary>Sends a slot's request as one unary call (Score, Redeem, or one of EchoService's) and reports how it came back.</summary>
internal sealed class UnaryInvoker
{
    private readonly ScoringService.ScoringServiceClient[] _scoring;
    private readonly EchoService.EchoServiceClient[]? _echo;
    private readonly TargetRpc _target;
    private readonly Metadata _headers;
    private readonly TimeSpan _timeout;

    public UnaryInvoker(GrpcConnections connections, TargetRpc target, TimeSpan timeout)
    {
        var echo = target is not TargetRpc.Score;
        _target = target;
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
                var client = _echo[channel];
                using var echo = _target switch
                {
                    TargetRpc.EchoRedis => client.EchoRedisAsync(slot.Score, options),
                    TargetRpc.EchoLedger => client.EchoLedgerAsync(slot.Score, options),
                    TargetRpc.EchoDurable => client.EchoDurableAsync(slot.Score, options),
                    _ => client.EchoAsync(slot.Score, options),
                };
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
