using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Members: enrolment in the ledger, and loading (or rebuilding) their hot state from it whenever Redis does not
/// hold it, for a new member, after a Redis restart, or on an operator's rebuild.
/// </summary>
internal sealed partial class MemberDirectory(
    LedgerStore ledger,
    LedgerWriter writer,
    HotStateStore hotState,
    SnapshotCache snapshots,
    TimeProvider time,
    LoyaltyMetrics metrics,
    ILogger<MemberDirectory> logger)
{
    private const int RebuildAttempts = 5;

    /// <returns>Whether the member was created by this call (false: already enrolled).</returns>
    public async Task<bool> EnrollAsync(string memberId, string? referredBy, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var created = await ledger.InsertMemberAsync(memberId, time.GetUtcNow().ToUnixTimeMilliseconds(), referredBy, cancellationToken);
        if (created)
        {
            metrics.MembersEnrolled.Inc();
        }

        await EnsureLoadedAsync(memberId, program, enrollIfMissing: false, cancellationToken);
        return created;
    }

    /// <summary>What <see cref="EnsureLoadedAsync"/> found.</summary>
    public enum Load
    {
        NotEnrolled,
        Loaded,

        /// <summary>The member was unknown and this call enrolled them.</summary>
        EnrolledNow,
    }

    /// <summary>Where the birthday run finds the member: month * 100 + day, or null to clear it.</summary>
    public Task SetBirthdayAsync(string memberId, int? birthday, CancellationToken cancellationToken) =>
        ledger.SetBirthdayAsync(memberId, birthday, cancellationToken);

    public async Task<bool> ExistsAsync(string memberId, CancellationToken cancellationToken) =>
        await ledger.MemberAsync(memberId, cancellationToken) is not null;

    /// <summary>Makes Redis hold the member's state, computed from the ledger when absent.</summary>
    public async Task<Load> EnsureLoadedAsync(string memberId, LoyaltyProgram program, bool enrollIfMissing, CancellationToken cancellationToken)
    {
        var result = Load.Loaded;
        // Changes Redis applied but the ledger may not hold yet would otherwise be missing from the state loaded.
        await RecoverPendingAsync(memberId, TimeSpan.Zero);
        var load = await FromLedgerAsync(memberId, program, cancellationToken);
        if (load is null)
        {
            if (!enrollIfMissing)
            {
                return Load.NotEnrolled;
            }

            if (await ledger.InsertMemberAsync(memberId, time.GetUtcNow().ToUnixTimeMilliseconds(), null, cancellationToken))
            {
                metrics.MembersEnrolled.Inc();
                result = Load.EnrolledNow;
            }

            load = await FromLedgerAsync(memberId, program, cancellationToken)
                ?? throw new InvalidOperationException($"Member {memberId} vanished right after enrolment.");
        }

        // The first transaction after a load then needs no read of what was just written.
        if (await hotState.LoadAsync(memberId, load.Value, replace: false) is { } loaded)
        {
            snapshots.Set(memberId, loaded);
        }

        return result;
    }

    /// <summary>The member's scored purchase of that id, as the ledger keeps it; null when there is none.</summary>
    public async Task<(ScoreResponse Answer, DateTimeOffset OccurredAt)?> PurchaseAsync(string memberId, string transactionId, CancellationToken cancellationToken) =>
        await ledger.PurchaseAsync(memberId, transactionId, cancellationToken) is { } stored
            ? (ScoreResponse.Parser.ParseFrom(stored.Response), DateTimeOffset.FromUnixTimeMilliseconds(stored.OccurredAtMs))
            : null;

    /// <summary>
    /// Whether the member ever had a hold of that id: its authorization is in the ledger, or still waiting in Redis for
    /// its commit (looked at first: once committed, the pending copy goes and the ledger has it).
    /// </summary>
    public async Task<bool> HoldExistsAsync(string memberId, string holdId, CancellationToken cancellationToken)
    {
        foreach (var bytes in await hotState.ReadPendingAsync(memberId))
        {
            var entry = LedgerEntry.Parser.ParseFrom(bytes);
            if (entry.Kind == EntryKind.Hold && entry.TransactionId == holdId)
            {
                return true;
            }
        }

        return await ledger.HoldExistsAsync(memberId, holdId, cancellationToken);
    }

    public async Task<MemberSnapshot?> GetAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var stored = await hotState.ReadAsync(memberId);
        if (stored is null && await EnsureLoadedAsync(memberId, program, enrollIfMissing: false, cancellationToken) == Load.Loaded)
        {
            stored = await hotState.ReadAsync(memberId);
        }

        return stored;
    }

    /// <summary>
    /// Recomputes the member's Redis state from the ledger. Entries still pending in Redis are committed first,
    /// so the ledger holds everything Redis has applied.
    /// </summary>
    public async Task<bool> RebuildAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < RebuildAttempts; attempt++)
        {
            await RecoverPendingAsync(memberId, TimeSpan.Zero);
            if (await FromLedgerAsync(memberId, program, cancellationToken) is not { } load)
            {
                return false;
            }

            if (await hotState.LoadAsync(memberId, load, replace: true) is { } loaded)
            {
                snapshots.Set(memberId, loaded);
                return true;
            }
        }

        throw new InvalidOperationException($"Member {memberId} kept receiving transactions during the rebuild; try again.");
    }

    /// <param name="progress">Told the members rebuilt so far after each page of 500.</param>
    public async Task<int> RebuildAllAsync(LoyaltyProgram program, CancellationToken cancellationToken, Action<int>? progress = null)
    {
        var rebuilt = 0;
        var after = string.Empty;
        while (true)
        {
            var page = await ledger.MemberIdsAfterAsync(after, 500, cancellationToken);
            if (page.Count == 0)
            {
                return rebuilt;
            }

            foreach (var memberId in page)
            {
                rebuilt += await RebuildAsync(memberId, program, cancellationToken) ? 1 : 0;
            }

            progress?.Invoke(rebuilt);
            after = page[^1];
        }
    }

    /// <summary>Drops a transaction the ledger refused from Redis and recomputes the member from the ledger.</summary>
    public async Task RepairAfterConflictAsync(string memberId, string transactionId, LoyaltyProgram program)
    {
        LogConflict(logger, transactionId, memberId);
        try
        {
            await hotState.DiscardAsync(memberId, transactionId);
            await RebuildAsync(memberId, program, CancellationToken.None);
        }
        catch (Exception ex)
        {
            // The refused change must not stay in the member's state: without one, the member's next transaction loads
            // it from the ledger (after committing, or refusing, whatever is still pending). If Redis is down too,
            // this throws as well and the state waits for Redis; a change refused once is refused again.
            LogRepairFailed(logger, ex, memberId);
            snapshots.Remove(memberId);
            await hotState.ForgetStateAsync(memberId);
            throw;
        }
    }

    /// <summary>
    /// Commits an entry Redis applied and keeps a pending copy of, then drops that copy. Completes once the row is
    /// durable (or was already in the ledger).
    /// </summary>
    /// <param name="mayExist">A retry's or a recovery's commit: the row may already be there.</param>
    /// <exception cref="LedgerConflictException">The ledger holds another transaction under this id.</exception>
    public async Task CommitAsync(LedgerEntry entry, bool mayExist)
    {
        await writer.AppendAsync(entry, mayExist);
        hotState.AcknowledgeCommitted(entry.MemberId, entry.TransactionId);
    }

    /// <summary>Commits entries that Redis applied but whose request never saw a commit (crash, ledger outage).</summary>
    /// <param name="minimumAge">Leaves alone entries younger than this: their own request is most likely committing them.</param>
    /// <returns>The entries committed.</returns>
    public async Task<IReadOnlyList<LedgerEntry>> RecoverPendingAsync(string memberId, TimeSpan minimumAge)
    {
        var cutoff = (time.GetUtcNow() - minimumAge).ToUnixTimeMilliseconds();
        var entries = (await hotState.ReadPendingAsync(memberId)).Select(LedgerEntry.Parser.ParseFrom);
        // In the order Redis applied them: the ledger records a change only after the one it follows.
        var stale = entries.Where(e => e.RecordedAtUnixMs <= cutoff).OrderBy(e => e.MemberSequence).ToList();
        if (stale.Count == 0)
        {
            return stale;
        }

        var committed = new List<LedgerEntry>(stale.Count);
        foreach (var entry in stale)
        {
            try
            {
                await CommitAsync(entry, mayExist: true);
                committed.Add(entry);
            }
            catch (LedgerConflictException)
            {
                // Rebuilt from the ledger below, once this member's other pending entries are in.
                await hotState.DiscardAsync(memberId, entry.TransactionId);
            }
        }

        if (committed.Count < stale.Count)
        {
            LogConflict(logger, stale.First(e => !committed.Contains(e)).TransactionId, memberId);
            await hotState.ForgetStateAsync(memberId);
            snapshots.Remove(memberId);
        }

        stale = committed;
        metrics.PendingEntriesRecovered.Inc(stale.Count);
        LogRecovered(logger, stale.Count, memberId);
        return stale;
    }

    /// <summary>
    /// The member's state by replaying their ledger history: balance and spend from the rows, engine counters and
    /// profile fields from each row's recorded changes (later sets win), counters that no longer matter dropped.
    /// </summary>
    private async Task<MemberLoad?> FromLedgerAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        if (await ledger.MemberAsync(memberId, cancellationToken) is not { } member)
        {
            return null;
        }

        var history = await ledger.HistoryAsync(memberId, cancellationToken);
        // Each row is applied as the apply script applied it: the same changes, through the same function that keeps
        // the snapshot cache in step with Redis.
        var replayed = new MemberSnapshot(string.Empty, new MemberState
        {
            Tier = program.Tiers.Entry.Id,
            EnrolledAt = DateTimeOffset.FromUnixTimeMilliseconds(member.EnrolledAtMs),
            ReferredBy = member.ReferredBy,
        });
        var increments = new List<KeyValuePair<string, long>>();
        var sets = new List<KeyValuePair<string, string>>();
        var deletes = new List<string>();
        foreach (var entry in history)
        {
            increments.Clear();
            sets.Clear();
            deletes.Clear();
            increments.Add(new(MemberFields.LifetimeSpend, entry.SpendMinor));
            if (entry.Kind == (long)EntryKind.Earn)
            {
                increments.Add(new(MemberFields.Purchases, 1));
            }

            if (entry.Changes is not null)
            {
                var changes = StateChanges.Parser.ParseFrom(entry.Changes);
                increments.AddRange(changes.Increments);
                sets.AddRange(changes.Sets);
                deletes.AddRange(changes.Deletes);
            }

            // The last change names the state: its number, and its id for the change after it to name (none for rows
            // from before change ids, whose successor then goes unchecked).
            replayed = entry.Sequence >= replayed.Sequence
                ? MemberStateChanges.Apply(replayed, string.Empty, entry.Sequence, entry.ChangeId, entry.Points, increments, sets, deletes)
                : MemberStateChanges.Apply(replayed, string.Empty, replayed.Sequence, replayed.ChangeId, entry.Points, increments, sets, deletes);
        }

        var local = program.Calendar.LocalTime(time.GetUtcNow());
        var stale = replayed.State.Counters.Keys.Where(k => CounterStaleness.IsStale(k, local)).ToList();
        if (stale.Count > 0)
        {
            replayed = MemberStateChanges.Apply(replayed, string.Empty, replayed.Sequence, replayed.ChangeId, 0, [], [], stale);
        }

        return new MemberLoad(replayed.State, HasHistory: history.Count > 0, replayed.Sequence, replayed.ChangeId);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Transaction {TransactionId} of member {MemberId} reused the id of another one in the ledger; the member's hot state is recomputed from the ledger")]
    private static partial void LogConflict(ILogger logger, string transactionId, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilding member {MemberId} after a refused change failed; their hot state is dropped, to be loaded from the ledger by their next transaction")]
    private static partial void LogRepairFailed(ILogger logger, Exception exception, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committed {Count} pending ledger entries of member {MemberId}")]
    private static partial void LogRecovered(ILogger logger, int count, string memberId);
}
