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
/// Gathers concurrent applies into batches, group-commit style: with nothing in flight an apply is sent at once, from
/// its caller's own thread; while a batch is in flight the next applies queue, and the batch's completion sends all
/// of them as the next one. So a lone request pays no hand-off and no wait, and under load one script call carries
/// many transactions.
/// </summary>
internal sealed class ApplyBatcher(Func<List<PendingApply>, Task> send)
{
    private readonly Lock _gate = new();
    private List<PendingApply> _queued = [];
    private bool _sending;

    public Task<ApplyReply> ApplyAsync(ApplyCommand command)
    {
        var pending = new PendingApply(command);
        List<PendingApply> batch;
        lock (_gate)
        {
            _queued.Add(pending);
            if (_sending)
            {
                return pending.Reply;
            }

            _sending = true;
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
            // Settles every apply of the batch (a failure included) and never throws.
            await send(batch);
            lock (_gate)
            {
                if (_queued.Count == 0)
                {
                    _sending = false;
                    return;
                }

                batch = _queued;
                _queued = [];
            }
        }
    }
}
