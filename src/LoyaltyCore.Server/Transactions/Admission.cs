using Grpc.Core;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Bounds the transactions in flight. Past the bound a call is refused at once with RESOURCE_EXHAUSTED, before it
/// touches anything, instead of queueing without limit: memory stays bounded and the calls accepted stay fast.
/// </summary>
internal sealed class Admission(IOptions<ScoringOptions> options)
{
    private readonly int _limit = options.Value.MaxInFlight;
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    public Ticket Enter()
    {
        if (Interlocked.Increment(ref _inFlight) > _limit)
        {
            Interlocked.Decrement(ref _inFlight);
            throw new RpcException(RpcErrors.Overloaded);
        }

        return new Ticket(this);
    }

    public readonly struct Ticket(Admission admission) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref admission._inFlight);
    }
}
