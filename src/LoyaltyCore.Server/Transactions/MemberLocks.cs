namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Serialises one member's transactions within this process, so concurrent calls for a hot member queue up
/// instead of invalidating each other's snapshot; the version check in Redis still arbitrates between processes.
/// Striped: memory stays fixed whatever the number of members, and a stripe is held only up to the Redis apply.
/// </summary>
internal sealed class MemberLocks
{
    private const int StripeCount = 4096;
    private readonly MemberStripe[] _stripes = CreateStripes();

    public MemberStripe For(string memberId) =>
        _stripes[(int)((uint)StringComparer.Ordinal.GetHashCode(memberId) % StripeCount)];

    private static MemberStripe[] CreateStripes()
    {
        var stripes = new MemberStripe[StripeCount];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new MemberStripe();
        }

        return stripes;
    }
}

/// <summary>
/// One stripe: a first-come first-served async lock that hands itself to the next waiter on the releasing thread.
/// SemaphoreSlim resumes every async waiter through the thread pool, a wake-up per queued call for a hot member; here
/// the next holder runs on the thread that released, up to its own Redis apply, and the releaser then goes on.
/// </summary>
internal sealed class MemberStripe
{
    private readonly Lock _gate = new();
    private readonly Queue<Waiter> _waiters = new();
    private bool _held;

    /// <summary>Completes once the stripe is this caller's; cancelled (and never taken) if the token fires first.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Waiter waiter;
        lock (_gate)
        {
            if (!_held)
            {
                _held = true;
                return Task.CompletedTask;
            }

            waiter = new Waiter();
            // Registered before the waiter is visible to Release, so whoever takes it can dispose the registration.
            waiter.Watch(cancellationToken);
            _waiters.Enqueue(waiter);
        }

        return waiter.Task;
    }

    /// <summary>
    /// Hands the stripe to the next waiter, whose call continues here, on this thread, up to its first wait (its
    /// Redis apply); or frees it.
    /// </summary>
    public void Release()
    {
        while (true)
        {
            Waiter? next;
            lock (_gate)
            {
                if (!_held)
                {
                    throw new InvalidOperationException("The stripe was released without being held.");
                }

                if (!_waiters.TryDequeue(out next))
                {
                    _held = false;
                    return;
                }
            }

            // A waiter whose call was cancelled meanwhile refuses the stripe: pass it on to the one after it.
            if (next.TryTake())
            {
                return;
            }
        }
    }

    /// <summary>
    /// Completed without RunContinuationsAsynchronously on purpose: the next holder continues inline in
    /// <see cref="Release"/>.
    /// </summary>
    private sealed class Waiter : TaskCompletionSource
    {
        private CancellationTokenRegistration _cancellation;

        public void Watch(CancellationToken cancellationToken)
        {
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((Waiter)state!).TrySetCanceled(token), this);
            }
        }

        /// <returns>False when the waiter's call was cancelled first.</returns>
        public bool TryTake()
        {
            // Waits for a cancellation callback already running, so exactly one of the two outcomes wins.
            _cancellation.Dispose();
            return TrySetResult();
        }
    }
}
