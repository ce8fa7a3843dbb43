using System.Diagnostics;
using System.Threading.Channels;
using Dapper;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Ledger;

/// <summary>The ledger could not commit; the entry stays pending in Redis and a retry (or recovery) completes it.</summary>
internal sealed class LedgerUnavailableException(Exception inner)
    : Exception("The ledger could not commit: " + inner.Message, inner);

/// <summary>
/// Group commit: requests queue their rows and wait; a few commit loops each take everything queued (up to a batch)
/// and write it in one transaction. While one commit is in flight the next batch gathers, so under load many
/// requests share each commit, and a request is answered only once its row is committed.
/// </summary>
internal sealed partial class LedgerWriter : BackgroundService
{
    private readonly Channel<PendingAppend> _queue;
    private readonly LedgerDatabase _database;
    private readonly HotStateStore _hotState;
    private readonly LoyaltyMetrics _metrics;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly LedgerOptions _options;

    public LedgerWriter(LedgerDatabase database, HotStateStore hotState, LoyaltyMetrics metrics, IOptions<LedgerOptions> options, ILogger<LedgerWriter> logger)
    {
        _database = database;
        _hotState = hotState;
        _metrics = metrics;
        _logger = logger;
        _options = options.Value;
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = false,
        });
    }

    /// <summary>Completes once the entry is committed (or was already in the ledger).</summary>
    public async Task AppendAsync(LedgerEntry entry)
    {
        var pending = new PendingAppend(entry);
        if (!_queue.Writer.TryWrite(pending))
        {
            await _queue.Writer.WriteAsync(pending);
        }

        _metrics.LedgerQueueDepth.Inc();
        await pending.Completion.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new Task[_options.MaxConcurrentCommits];
        for (var i = 0; i < loops.Length; i++)
        {
            loops[i] = Task.Run(CommitLoopAsync, CancellationToken.None);
        }

        return Task.WhenAll(loops);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Everything already queued is still committed; the loops end once the queue is drained.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task CommitLoopAsync()
    {
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        var entries = new List<LedgerEntry>(_options.MaxBatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            entries.Clear();
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                entries.Add(pending.Entry);
            }

            if (batch.Count == 0)
            {
                continue;
            }

            _metrics.LedgerQueueDepth.Dec(batch.Count);
            try
            {
                await CommitAsync(entries);
                Complete(batch, entries);
            }
            catch (Exception ex) when (batch.Count > 1)
            {
                // One bad row must not fail the requests it happened to share a commit with.
                LogBatchFailed(_logger, ex, batch.Count);
                foreach (var pending in batch)
                {
                    await CommitAloneAsync(pending);
                }
            }
            catch (Exception ex)
            {
                Fail(batch[0], ex);
            }
        }
    }

    private async Task CommitAloneAsync(PendingAppend pending)
    {
        List<LedgerEntry> single = [pending.Entry];
        try
        {
            await CommitAsync(single);
            Complete([pending], single);
        }
        catch (Exception ex)
        {
            Fail(pending, ex);
        }
    }

    private async Task CommitAsync(List<LedgerEntry> entries)
    {
        var started = Stopwatch.GetTimestamp();
        await using var connection = await _database.OpenAsync();
        var sql = _database.Sql;
        if (sql.BatchInsertWithArrays)
        {
            var columns = LedgerColumns.From(entries);
            if (!columns.HasDraws)
            {
                // One statement is atomic and durable on its own: no BEGIN/COMMIT round trips.
                await connection.ExecuteAsync(sql.InsertEntries, columns);
            }
            else
            {
                await using var transaction = await connection.BeginTransactionAsync();
                await connection.ExecuteAsync(sql.InsertEntries, columns, transaction);
                await connection.ExecuteAsync(sql.InsertDraws, columns, transaction);
                await transaction.CommitAsync();
            }
        }
        else
        {
            await using var transaction = await connection.BeginTransactionAsync();
            await connection.ExecuteAsync(sql.InsertEntries, entries.Select(LedgerRow.From), transaction);
            await connection.ExecuteAsync(sql.InsertDraws, DrawRow.From(entries), transaction);
            await transaction.CommitAsync();
        }

        _metrics.LedgerCommitDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.LedgerRowsPerCommit.Observe(entries.Count);
    }

    private void Complete(List<PendingAppend> batch, List<LedgerEntry> entries)
    {
        _hotState.AcknowledgeCommitted(entries);
        foreach (var pending in batch)
        {
            pending.Completion.TrySetResult();
        }
    }

    private void Fail(PendingAppend pending, Exception ex)
    {
        _metrics.LedgerCommitFailures.Inc();
        LogCommitFailed(_logger, ex, pending.Entry.TransactionId);
        pending.Completion.TrySetException(new LedgerUnavailableException(ex));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger batch of {Count} rows failed; committing them one by one")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger commit failed for transaction {TransactionId}; it stays pending in Redis")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string transactionId);

    private sealed class PendingAppend(LedgerEntry entry)
    {
        public LedgerEntry Entry { get; } = entry;

        // Continuations run off the commit loop so one slow request cannot hold up the next batch.
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
