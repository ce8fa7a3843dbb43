using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>
/// Holds the named transactions of a server after Redis applied them and before their ledger commit, until opened:
/// a state in which only the pending copy in Redis knows them.
/// </summary>
internal sealed class CommitGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _held;

    public CommitGate(ServerInstance server, params string[] transactionIds)
    {
        var names = transactionIds.ToHashSet(StringComparer.Ordinal);
        server.Get<PipelineProbes>().BeforeCommit = async (transactionId, _) =>
        {
            if (names.Contains(transactionId))
            {
                Interlocked.Increment(ref _held);
                await _open.Task;
            }
        };
    }

    /// <summary>Waits until that many calls are held (the calls run on the server's threads: a bounded spin).</summary>
    public async Task UntilHeldAsync(int calls)
    {
        for (var i = 0; i < 500 && Volatile.Read(ref _held) < calls; i++)
        {
            await Task.Delay(10);
        }

        Assert.True(Volatile.Read(ref _held) >= calls, "the calls never reached the commit");
    }

    public void Open() => _open.SetResult();
}
