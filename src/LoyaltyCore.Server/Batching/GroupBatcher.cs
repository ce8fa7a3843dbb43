namespace LoyaltyCore.Server.Batching;

/// <summary>Work waiting in a batch of a <see cref="GroupBatcher{TPending}"/>.</summary>
internal interface IBatchedWork
{
    /// <summary>Its batch could not be sent: the waiter is failed rather than left waiting.</summary>
    void Fail(Exception exception);
}

/// <summary>
/// Gathers concurrent work into batches, group-commit style: with fewer than <paramref name="maxInFlight"/> batches
/// in flight the work is sent at once, from its caller's own thread; otherwise it queues, and the next batch to
/// complete sends everything queued as its successor. So a lone request pays no hand-off and no wait, and under load
/// one call carries many requests. More than one batch in flight keeps the other side busy while a reply travels
/// back: with one, the round trip itself capped throughput.
/// </summary>
/// <param name="send">Sends a batch and settles every item of it, a failure included.</param>
internal sealed class GroupBatcher<TPending>(Func<List<TPending>, Task> send, int maxInFlight)
    where TPending : IBatchedWork
{
    private readonly Lock _gate = new();
    private List<TPending> _queued = [];
    private int _inFlight;

    public void Enqueue(TPending pending)
    {
        List<TPending> batch;
        lock (_gate)
        {
            _queued.Add(pending);
            if (_inFlight == maxInFlight)
            {
                return;
            }

            _inFlight++;
            batch = _queued;
            _queued = [];
        }

        _ = SendUntilDrainedAsync(batch);
    }

    /// <param name="batch">Sent first; then whatever queued meanwhile, until nothing did.</param>
    private async Task SendUntilDrainedAsync(List<TPending> batch)
    {
        while (true)
        {
            try
            {
                await send(batch);
            }
            catch (Exception ex)
            {
                // Never leave a caller waiting, nor this batch's slot taken, whatever went wrong building the call.
                foreach (var pending in batch)
                {
                    pending.Fail(ex);
                }
            }

            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _inFlight--;
                    return;
                }

                batch = _queued;
                _queued = [];
            }
        }
    }
}
