using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The per-member stripe: one holder at a time, first come first served, cancellable while waiting.</summary>
public sealed class MemberLocksTests
{
    [Fact]
    public async Task One_holder_at_a_time_under_contention()
    {
        var stripe = new MemberStripe();
        var inside = 0;
        var most = 0;
        var done = 0;

        await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            await Task.Yield();
            await stripe.WaitAsync(CancellationToken.None);
            try
            {
                var now = Interlocked.Increment(ref inside);
                most = Math.Max(most, now);
                await Task.Yield();
                done++;
                Interlocked.Decrement(ref inside);
            }
            finally
            {
                stripe.Release();
            }
        }));

        Assert.Equal(1, most);
        Assert.Equal(200, done);
    }

    [Fact]
    public async Task Waiters_get_the_stripe_in_the_order_they_asked_and_on_the_releasing_thread()
    {
        var stripe = new MemberStripe();
        await stripe.WaitAsync(CancellationToken.None);
        var order = new List<int>();
        var threads = new List<int>();
        var waiters = Enumerable.Range(1, 3).Select(async i =>
        {
            await stripe.WaitAsync(CancellationToken.None);
            order.Add(i);
            threads.Add(Environment.CurrentManagedThreadId);
            stripe.Release();
        }).ToList();

        var releasing = Environment.CurrentManagedThreadId;
        stripe.Release();
        await Task.WhenAll(waiters);

        Assert.Equal([1, 2, 3], order);
        Assert.All(threads, id => Assert.Equal(releasing, id));
    }

    [Fact]
    public async Task A_cancelled_waiter_never_takes_the_stripe_and_the_next_one_does()
    {
        var stripe = new MemberStripe();
        await stripe.WaitAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = stripe.WaitAsync(cancel.Token);
        var next = stripe.WaitAsync(CancellationToken.None);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.False(next.IsCompleted);
        stripe.Release();
        await next;
        stripe.Release();

        // Free again: taken at once.
        Assert.True(stripe.WaitAsync(CancellationToken.None).IsCompletedSuccessfully);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stripe.WaitAsync(cancel.Token));
    }

    [Fact]
    public async Task Cancellations_racing_releases_never_lose_the_stripe_nor_give_it_to_two()
    {
        var stripe = new MemberStripe();
        var inside = 0;
        for (var round = 0; round < 300; round++)
        {
            await stripe.WaitAsync(CancellationToken.None);
            using var cancel = new CancellationTokenSource();
            var waiters = Enumerable.Range(0, 3).Select(async _ =>
            {
                try
                {
                    await stripe.WaitAsync(cancel.Token);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                Assert.Equal(1, Interlocked.Increment(ref inside));
                Interlocked.Decrement(ref inside);
                stripe.Release();
                return true;
            }).ToList();

            // The holder lets go while the waiters' calls are being cancelled.
            await Task.WhenAll(Task.Run(stripe.Release), Task.Run(cancel.Cancel));
            await Task.WhenAll(waiters);

            var free = stripe.WaitAsync(CancellationToken.None);
            Assert.True(free.IsCompletedSuccessfully, $"round {round}: the stripe was lost");
            stripe.Release();
        }
    }

    [Fact]
    public void Releasing_a_stripe_nobody_holds_is_refused()
    {
        var stripe = new MemberStripe();

        Assert.Throws<InvalidOperationException>(stripe.Release);
    }
}
