namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Points in the pipeline where a fault drill or a test can watch a transaction or hold it up, to make a deadline
/// or a shutdown land at an exact step. Unset, each costs one null check.
/// </summary>
internal sealed class PipelineProbes
{
    /// <summary>A transaction passed admission and entered the pipeline (member id, transaction id).</summary>
    public Action<string, string>? Accepted { get; set; }

    /// <summary>Awaited before the transaction is applied, while its cancellation is still honoured (transaction id, the call's cancellation).</summary>
    public Func<string, CancellationToken, Task>? BeforeApply { get; set; }

    /// <summary>Awaited after the transaction was applied, before its ledger row is committed (transaction id, the call's cancellation).</summary>
    public Func<string, CancellationToken, Task>? BeforeCommit { get; set; }

    /// <summary>The pipeline is done with the transaction: answered, or failed with the exception given.</summary>
    public Action<string, Exception?>? Finished { get; set; }
}
