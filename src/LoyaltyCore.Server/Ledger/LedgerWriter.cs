using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using System.Threading.Channels;
using Dapper;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;
using Npgsql;

namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// The ledger already holds another transaction under this member and transaction id: the id was reused with other
/// content after the hot state had forgotten the first one. The entry was not written.
/// </summary>
internal sealed class LedgerConflictException(string memberId, string transactionId, bool staleSequence = false)
    : Exception(staleSequence
        ? $"The ledger already holds member {memberId}'s change numbered as {transactionId} was: it was applied on a stale state."
        : $"The ledger already holds a different transaction {transactionId} for member {memberId}.")
{
    public string MemberId { get; } = memberId;

    public string TransactionId { get; } = transactionId;

    /// <summary>
    /// Not a reused id: the ledger holds another row with this entry's member sequence, so the hot state that applied
    /// it had missed that row (a replica promoted before it received the member's last writes). Rebuilt from the
    /// ledger, the member's state is right again and the transaction can be evaluated anew.
    /// </summary>
    public bool StaleSequence { get; } = staleSequence;
}

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
    private const int ReleasedPerWorkItem = 8;

    // One queue per commit loop, a member always in the same one: a member's rows are committed in the order their
    // loop takes them, so a change finds the change before it committed, or in its own batch.
    private readonly Channel<PendingAppend>[] _queues;
    private readonly LedgerDatabase _database;
    private readonly LoyaltyMetrics _metrics;
    private readonly ILogger<LedgerWriter> _logger;
    private readonly LedgerOptions _options;

    // The changes this server is committing, by member and change id: a change that follows one of them waits for it
    // to settle rather than asking the ledger again and again (changed under _parking).
    private readonly ConcurrentDictionary<(string MemberId, long ChangeId), PendingAppend> _inFlight = new();
    private readonly Func<string, long, bool> _committing;
    private readonly RecentChanges _committed = new(32_768);

    // Entries waiting for a predecessor in flight here, by the predecessor's member and change id.
    private readonly Lock _parking = new();
    private readonly Dictionary<(string MemberId, long ChangeId), List<PendingAppend>> _parked = [];

    public LedgerWriter(LedgerDatabase database, LoyaltyMetrics metrics, IOptions<LedgerOptions> options, ILogger<LedgerWriter> logger)
    {
        _database = database;
        _metrics = metrics;
        _logger = logger;
        _options = options.Value;
        _committing = (memberId, changeId) => _inFlight.ContainsKey((memberId, changeId));
        _queues = new Channel<PendingAppend>[_options.MaxConcurrentCommits];
        for (var i = 0; i < _queues.Length; i++)
        {
            _queues[i] = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(Math.Max(1, _options.QueueCapacity / _queues.Length))
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleWriter = false,
                SingleReader = true,
            });
        }
    }

    private ChannelWriter<PendingAppend> QueueOf(LedgerEntry entry) =>
        _queues[(int)((uint)string.GetHashCode(entry.MemberId, StringComparison.Ordinal) % (uint)_queues.Length)].Writer;

    /// <summary>Completes once the entry is committed (or was already in the ledger).</summary>
    /// <param name="mayExist">
    /// A retry or a recovery of an entry that may be committed already: its batch takes the insert that skips
    /// existing rows rather than COPY, which would fail on it.
    /// </param>
    public async Task AppendAsync(LedgerEntry entry, bool mayExist)
    {
        var pending = new PendingAppend(entry, mayExist);
        if (entry.ChangeId != 0)
        {
            _inFlight.TryAdd((entry.MemberId, entry.ChangeId), pending);
        }

        var queue = QueueOf(entry);
        try
        {
            if (!queue.TryWrite(pending))
            {
                await queue.WriteAsync(pending);
            }

            _metrics.LedgerQueueDepth.Inc();
        }
        catch (ChannelClosedException ex)
        {
            // Shutting down: settled as unavailable (releasing anything set aside behind it); it stays pending in Redis.
            Fail(pending, ex);
        }

        await pending.Completion.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var loops = new Task[_queues.Length];
        for (var i = 0; i < loops.Length; i++)
        {
            var reader = _queues[i].Reader;
            loops[i] = Task.Run(() => CommitLoopAsync(reader), CancellationToken.None);
        }

        return Task.WhenAll(loops);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Entries waiting for their predecessor are put back in a queue, which must still take them: the queues close
        // once nothing is in flight, or after one predecessor wait. Then everything queued is still committed, and the
        // loops end once the queues are drained; an entry put back after that is answered unavailable and stays
        // pending in Redis.
        var deadline = Stopwatch.GetTimestamp();
        while (!_inFlight.IsEmpty && Stopwatch.GetElapsedTime(deadline) < _options.PredecessorWait && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), CancellationToken.None);
        }

        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await base.StopAsync(cancellationToken);
    }

    private async Task CommitLoopAsync(ChannelReader<PendingAppend> reader)
    {
        var batch = new List<PendingAppend>(_options.MaxBatchSize);
        var entries = new List<LedgerEntry>(_options.MaxBatchSize);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            entries.Clear();
            var allNew = true;
            while (batch.Count < _options.MaxBatchSize && reader.TryRead(out var pending))
            {
                batch.Add(pending);
                entries.Add(pending.Entry);
                allNew &= !pending.MayExist;
            }

            if (batch.Count == 0)
            {
                continue;
            }

            _metrics.LedgerQueueDepth.Dec(batch.Count);
            try
            {
                Complete(batch, await CommitAsync(entries, allNew));
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
            Complete([pending], await CommitAsync(single, copy: !pending.MayExist));
        }
        catch (Exception ex)
        {
            Fail(pending, ex);
        }
    }

    /// <summary>
    /// Writes the entries that follow the change they name (see <see cref="LedgerChain"/>), in one statement where it
    /// can. Refusals are recorded before anyone is told, so a change waiting for a refused one learns it.
    /// </summary>
    /// <param name="copy">Try PostgreSQL's COPY first: every entry is expected to be new.</param>
    private async Task<CommitOutcome> CommitAsync(List<LedgerEntry> entries, bool copy)
    {
        var started = Stopwatch.GetTimestamp();
        await using var connection = await _database.OpenAsync();
        var outcome = new CommitOutcome();
        var postgres = connection as NpgsqlConnection;
        if (postgres is not null)
        {
            entries = await HoldBackAsync(postgres, entries, outcome);
        }

        if (entries.Count > 0)
        {
            await InsertAsync(connection, entries, copy, started, outcome);
        }

        if (postgres is not null && outcome.Conflicts is not null)
        {
            await LedgerChain.RecordRefusalsAsync(postgres, outcome.Conflicts.Keys);
        }

        return outcome;
    }

    /// <returns>The entries that may be written now; the others are refused or held in <paramref name="outcome"/>.</returns>
    private async Task<List<LedgerEntry>> HoldBackAsync(NpgsqlConnection connection, List<LedgerEntry> entries, CommitOutcome outcome)
    {
        if (await LedgerChain.CheckAsync(connection, entries, _committed, _committing) is not { } verdicts)
        {
            return entries;
        }

        foreach (var (entry, verdict) in verdicts)
        {
            if (verdict == LedgerChain.Verdict.Stale)
            {
                outcome.Refuse(entry, staleSequence: true);
            }
            else
            {
                (outcome.Held ??= new(ReferenceEqualityComparer.Instance))[entry] = verdict;
            }
        }

        return [.. entries.Where(e => !verdicts.ContainsKey(e))];
    }

    /// <summary>Writes the entries, telling <paramref name="outcome"/> those the ledger refused.</summary>
    private async Task InsertAsync(DbConnection connection, List<LedgerEntry> entries, bool copy, long started, CommitOutcome outcome)
    {
        var sql = _database.Sql;
        var skipped = new List<LedgerEntry>();
        if (copy && connection is NpgsqlConnection postgres)
        {
            try
            {
                await LedgerCopy.WriteAsync(postgres, entries);
                _metrics.LedgerCommitDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
                _metrics.LedgerRowsPerCommit.Observe(entries.Count);
                return;
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // An id or number the ledger already holds (a retry racing its original, a reused id, a stale state):
                // nothing was written, and the insert below skips what exists and tells which it was.
                LogCopyFellBack(_logger, entries.Count);
            }
        }

        if (sql.BatchInsertWithArrays)
        {
            await InsertUnnestedAsync(connection, entries, started, outcome);
            return;
        }

        // SQLite: one prepared insert per row in the batch's transaction, in process.
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            foreach (var entry in entries)
            {
                if (await connection.ExecuteAsync(sql.InsertEntries, LedgerRow.From(entry), transaction) == 0)
                {
                    skipped.Add(entry);
                }
            }

            await connection.ExecuteAsync(sql.InsertDraws, DrawRow.From(skipped.Count == 0 ? entries : [.. entries.Except(skipped)]), transaction);
            await transaction.CommitAsync();
        }

        _metrics.LedgerCommitDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        _metrics.LedgerRowsPerCommit.Observe(entries.Count - skipped.Count);
        if (skipped.Count > 0 && await ConflictsAsync(connection, skipped) is { } refused)
        {
            foreach (var (entry, staleSequence) in refused)
            {
                outcome.Refuse(entry, staleSequence);
            }
        }
    }

    /// <summary>
    /// PostgreSQL's insert that skips rows already present: one statement per table for the whole batch. It may skip a
    /// change the ledger refuses and write the change after it; such a batch is undone and written again without the
    /// changes riding on a refused one, which wait for the next batch.
    /// </summary>
    private async Task InsertUnnestedAsync(DbConnection connection, List<LedgerEntry> entries, long started, CommitOutcome outcome)
    {
        var sql = _database.Sql;
        while (true)
        {
            var columns = LedgerColumns.From(entries);
            var chained = LedgerChain.HasChainWithin(entries);

            // One statement is atomic and durable on its own: without draws or a chain, no BEGIN/COMMIT round trips.
            await using var transaction = columns.HasDraws || chained ? await connection.BeginTransactionAsync() : null;

            // The number comes back with the key: a retry Redis applied again in its original's batch is another row.
            var inserted = (await connection.QueryAsync<(string MemberId, string TransactionId, long MemberSequence)>(sql.InsertEntries, columns, transaction)).ToHashSet();
            var skipped = inserted.Count == entries.Count
                ? []
                : entries.Where(e => !inserted.Contains((e.MemberId, e.TransactionId, e.MemberSequence))).ToList();
            var refused = skipped.Count == 0 ? null : await ConflictsAsync(connection, skipped);
            if (refused is not null && chained && LedgerChain.RidingOn(entries, refused.Keys) is { Count: > 0 } riding)
            {
                // Undone, refusals and all: a change may have collided only with a rider's row. The riders wait for the
                // next batch; the rest is written again, and the refusals of that pass stand.
                await transaction!.RollbackAsync();
                var held = outcome.Held ??= new(ReferenceEqualityComparer.Instance);
                foreach (var entry in riding)
                {
                    held[entry] = LedgerChain.Verdict.AfterBatch;
                }

                entries = [.. entries.Where(e => !held.ContainsKey(e))];
                if (entries.Count == 0)
                {
                    return;
                }

                continue;
            }

            if (transaction is not null)
            {
                if (columns.HasDraws)
                {
                    // The draws of the rows written only: a skipped row's are the stored row's already, or belong to a
                    // change the ledger refused.
                    await connection.ExecuteAsync(sql.InsertDraws, skipped.Count == 0
                        ? columns
                        : LedgerColumns.From([.. entries.Except(skipped)]), transaction);
                }

                await transaction.CommitAsync();
            }

            _metrics.LedgerCommitDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            _metrics.LedgerRowsPerCommit.Observe(entries.Count - skipped.Count);
            foreach (var (entry, staleSequence) in refused ?? [])
            {
                outcome.Refuse(entry, staleSequence);
            }

            return;
        }
    }

    /// <summary>
    /// Rows already present are fine when they are this very change (a retry, a recovery: same request, same member
    /// sequence, same change id). The rest are conflicts: another request under the id (a reuse), or a change applied
    /// on a stale state (no row under its id, so it collided on the member's sequence; or this request's row as another
    /// change, a retry Redis applied again because a failover lost its record).
    /// </summary>
    private static async Task<Dictionary<LedgerEntry, bool>?> ConflictsAsync(DbConnection connection, List<LedgerEntry> skipped)
    {
        Dictionary<LedgerEntry, bool>? conflicts = null;
        foreach (var entry in skipped)
        {
            var stored = await connection.QuerySingleOrDefaultAsync<StoredChange>(LedgerSql.FingerprintAndSequence, new { entry.MemberId, entry.TransactionId });
            var sameRequest = stored is not null && entry.Fingerprint.Span.SequenceEqual(stored.Fingerprint);
            if (sameRequest && stored!.Sequence == entry.MemberSequence && (stored.ChangeId == entry.ChangeId || stored.ChangeId == 0 || entry.ChangeId == 0))
            {
                continue;
            }

            (conflicts ??= new Dictionary<LedgerEntry, bool>(ReferenceEqualityComparer.Instance))[entry] = stored is null || sameRequest;
        }

        return conflicts;
    }

    private sealed class StoredChange
    {
        public byte[] Fingerprint { get; set; } = [];

        public long Sequence { get; set; }

        public long ChangeId { get; set; }
    }

    private void Complete(List<PendingAppend> batch, CommitOutcome outcome)
    {
        var settled = new List<PendingAppend>(batch.Count);
        foreach (var pending in batch)
        {
            if (outcome.Held is not null && outcome.Held.TryGetValue(pending.Entry, out var verdict))
            {
                Requeue(pending, verdict);
                continue;
            }

            if (outcome.Conflicts is not null && outcome.Conflicts.TryGetValue(pending.Entry, out var staleSequence))
            {
                pending.Failure = new LedgerConflictException(pending.Entry.MemberId, pending.Entry.TransactionId, staleSequence);
            }

            else if (pending.Entry.ChangeId != 0)
            {
                _committed.Add(pending.Entry.MemberId, pending.Entry.ChangeId);
            }

            Settling(pending);
            settled.Add(pending);
        }

        if (settled.Count > 0)
        {
            Release([.. settled]);
        }
    }

    /// <summary>
    /// Puts back an entry whose predecessor is not committed yet: at once when it was in the same batch; when this
    /// server is committing it, once it is settled; else after a short wait that doubles each time. Past
    /// <see cref="LedgerOptions.PredecessorWait"/> the request is answered unavailable; its entry stays pending in
    /// Redis, for a retry or the recovery to commit in order.
    /// </summary>
    private void Requeue(PendingAppend pending, LedgerChain.Verdict verdict)
    {
        if (pending.WaitingSince == 0)
        {
            pending.WaitingSince = Stopwatch.GetTimestamp();
        }
        else if (Stopwatch.GetElapsedTime(pending.WaitingSince) > _options.PredecessorWait)
        {
            Fail(pending, new TimeoutException(
                $"The change before it (member {pending.Entry.MemberId}, number {pending.Entry.MemberSequence - 1}) is not in the ledger after {_options.PredecessorWait}."));
            return;
        }

        pending.Waits++;
        switch (verdict)
        {
            case LedgerChain.Verdict.AfterBatch:
                _metrics.LedgerPredecessorWaits.WithLabels("batch").Inc();
                _ = RequeueAsync(pending, Task.CompletedTask);
                break;
            case LedgerChain.Verdict.WaitingHere:
                _metrics.LedgerPredecessorWaits.WithLabels("local").Inc();
                if (!Park(pending))
                {
                    // Settled since the check: most likely committed.
                    _ = RequeueAsync(pending, Task.CompletedTask);
                }

                break;
            default:
                // Another server's, or one not sent yet: asked again after 1, 2, 4... up to 100 ms.
                _metrics.LedgerPredecessorWaits.WithLabels("ledger").Inc();
                _ = RequeueAsync(pending, Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1 << Math.Min(pending.Waits - 1, 7), 100))));
                break;
        }
    }

    /// <summary>
    /// Sets aside an entry whose predecessor this server is committing (most often it reached the queue just after
    /// this one, their requests having raced there), until that one is settled.
    /// </summary>
    /// <returns>False when the predecessor is not in flight here.</returns>
    private bool Park(PendingAppend pending)
    {
        var key = (pending.Entry.MemberId, pending.Entry.PreviousChangeId);
        lock (_parking)
        {
            if (!_inFlight.ContainsKey(key))
            {
                return false;
            }

            if (!_parked.TryGetValue(key, out var waiting))
            {
                _parked[key] = waiting = [];
            }

            waiting.Add(pending);
            return true;
        }
    }

    private async Task RequeueAsync(PendingAppend pending, Task after)
    {
        // Whatever became of the change waited for: the next check finds it in the ledger, refused, or still missing.
        await after.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            var queue = QueueOf(pending.Entry);
            if (!queue.TryWrite(pending))
            {
                await queue.WriteAsync(pending);
            }

            _metrics.LedgerQueueDepth.Inc();
        }
        catch (ChannelClosedException ex)
        {
            // Shutting down: the entry stays pending in Redis.
            Fail(pending, ex);
        }
    }

    private void Fail(PendingAppend pending, Exception ex)
    {
        _metrics.LedgerCommitFailures.Inc();
        LogCommitFailed(_logger, ex, pending.Entry.TransactionId);
        pending.Failure = new LedgerUnavailableException(ex);
        Settling(pending);
        Release([pending]);
    }

    /// <summary>
    /// Wakes the waiters off the commit loop, so the next batch is not held up, but a few per thread-pool work item
    /// rather than one each: every hand-off to another thread costs a wake-up, and at moderate load the waiters'
    /// continuations are short next to that.
    /// </summary>
    private static void Release(PendingAppend[] settled)
    {
        if (settled.Length <= ReleasedPerWorkItem)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static waiters => Settle(waiters, 0, waiters.Length), settled, preferLocal: false);
            return;
        }

        for (var start = 0; start < settled.Length; start += ReleasedPerWorkItem)
        {
            var slice = (Waiters: settled, Start: start, End: Math.Min(start + ReleasedPerWorkItem, settled.Length));
            ThreadPool.UnsafeQueueUserWorkItem(static s => Settle(s.Waiters, s.Start, s.End), slice, preferLocal: false);
        }
    }

    private static void Settle(PendingAppend[] waiters, int start, int end)
    {
        for (var i = start; i < end; i++)
        {
            var pending = waiters[i];
            if (pending.Failure is { } failure)
            {
                pending.Completion.TrySetException(failure);
            }
            else
            {
                pending.Completion.TrySetResult();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ledger COPY of {Count} rows met an id already committed; inserting them skipping existing rows")]
    private static partial void LogCopyFellBack(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ledger batch of {Count} rows failed; committing them one by one")]
    private static partial void LogBatchFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Ledger commit failed for transaction {TransactionId}; it stays pending in Redis")]
    private static partial void LogCommitFailed(ILogger logger, Exception exception, string transactionId);

    /// <summary>The entry is leaving the writer: the entries set aside for it go back in the queue.</summary>
    private void Settling(PendingAppend pending)
    {
        if (pending.Entry.ChangeId == 0)
        {
            return;
        }

        var key = (pending.Entry.MemberId, pending.Entry.ChangeId);
        List<PendingAppend>? released = null;
        lock (_parking)
        {
            _inFlight.TryRemove(KeyValuePair.Create(key, pending));
            if (_parked.Remove(key, out var waiting))
            {
                // With the whole chain set aside behind them, in order: it goes in one batch again.
                released = waiting;
                for (var i = 0; i < released.Count; i++)
                {
                    if (_parked.Remove((released[i].Entry.MemberId, released[i].Entry.ChangeId), out var behind))
                    {
                        released.AddRange(behind);
                    }
                }
            }
        }

        foreach (var entry in released ?? [])
        {
            _ = RequeueAsync(entry, Task.CompletedTask);
        }
    }

    /// <summary>What a commit did not write: entries refused (true: applied on a stale state), entries put back.</summary>
    private sealed class CommitOutcome
    {
        public Dictionary<LedgerEntry, bool>? Conflicts { get; private set; }

        public Dictionary<LedgerEntry, LedgerChain.Verdict>? Held { get; set; }

        public void Refuse(LedgerEntry entry, bool staleSequence) =>
            (Conflicts ??= new(ReferenceEqualityComparer.Instance))[entry] = staleSequence;
    }

    private sealed class PendingAppend(LedgerEntry entry, bool mayExist)
    {
        public LedgerEntry Entry { get; } = entry;

        public bool MayExist { get; } = mayExist;

        /// <summary>Set before release when the entry could not be committed.</summary>
        public Exception? Failure { get; set; }

        /// <summary>When it was first put back to wait for its predecessor (a timestamp); 0 while it never was.</summary>
        public long WaitingSince { get; set; }

        public int Waits { get; set; }

        // Continuations run inline in the release work item (see Release), never on the commit loop itself.
        public TaskCompletionSource Completion { get; } = new();
    }
}
