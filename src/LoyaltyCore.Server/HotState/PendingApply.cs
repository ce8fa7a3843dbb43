using LoyaltyCore.Server.Batching;

namespace LoyaltyCore.Server.HotState;

/// <summary>An apply waiting in a batch. Its caller's continuation runs inline where the reply is settled.</summary>
internal sealed class PendingApply(ApplyCommand command) : IBatchedWork
{
    private readonly TaskCompletionSource<ApplyReply> _reply = new();

    public ApplyCommand Command { get; } = command;

    public Task<ApplyReply> Reply => _reply.Task;

    public void Settle(ApplyReply reply) => _reply.TrySetResult(reply);

    public void Fail(Exception exception) => _reply.TrySetException(exception);
}
