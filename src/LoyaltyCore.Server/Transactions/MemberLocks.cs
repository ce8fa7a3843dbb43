namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Serialises one member's transactions within this process, so concurrent calls for a hot member queue up
/// instead of invalidating each other's snapshot; the version check in Redis still arbitrates between processes.
/// Striped: memory stays fixed whatever the number of members, and a stripe is held only up to the Redis apply.
/// </summary>
internal sealed class MemberLocks
{
    private const int StripeCount = 4096;
    private readonly SemaphoreSlim[] _stripes = CreateStripes();

    public SemaphoreSlim For(string memberId) =>
        _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(memberId) % StripeCount)];

    private static SemaphoreSlim[] CreateStripes()
    {
        var stripes = new SemaphoreSlim[StripeCount];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new SemaphoreSlim(1, 1);
        }

        return stripes;
    }
}
