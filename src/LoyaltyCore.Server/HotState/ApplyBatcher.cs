namespace LoyaltyCore.Server.HotState;

/// <summary>An apply waiting in a batch. Its caller's continuation runs inline where the reply is settled.</summary>
internal sealed class PendingApply(ApplyCommand command)
{
    private readonly TaskCompletionSource<ApplyReply> _reply = new();

    public ApplyCommand Command { get; } = command;

    public Task<ApplyReply> Reply => _reply.Task;

    public void Settle(ApplyReply reply) => _reply.TrySetResult(reply);

    public void Fail(Exception exception) => _reply.TrySetException(exception);
}

/// <summary>
/// Gathers concurrent applies into batches, group-commit style: with fewer than <paramref name="maxInFlight"/>
/// batches in flight an apply is sent at once, from its caller's own thread; otherwise it queues, and the next batch
/// to complete sends everything queued as its successor. So a lone request pays no hand-off and no wait, and under
/// load one script call carries many transactions. More than one batch in flight keeps Redis busy while a reply
/// travels back: with one, the round trip itself capped throughput.
/// </summary>
internal sealed class ApplyBatcher(Func<List<PendingApply>, Task> send, int maxInFlight)
{
    private readonly Lock _gate = new();
    private List<PendingApply> _queued = [];
    private int _inFlight;

    public Task<ApplyReply> ApplyAsync(ApplyCommand command)
    {
        var pending = new PendingApply(command);
        List<PendingApply> batch;
        lock (_gate)
        {
            _queued.Add(pending);
            if (_inFlight == maxInFlight)
            {
                return pending.Reply;
            }

            _inFlight++;
            batch = _queued;
            _queued = [];
        }

        _ = SendUntilDrainedAsync(batch);
        return pending.Reply;
    }

    /// <param name="batch">Sent first; then whatever queued meanwhile, until nothing did.</param>
    private async Task SendUntilDrainedAsync(List<PendingApply> batch)
    {
        while (true)
        {
            try
            {
                // Settles every apply of the batch, a failure included.
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
