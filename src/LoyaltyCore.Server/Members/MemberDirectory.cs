using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Members;

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
    public async Task<bool> EnrollAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var created = await ledger.InsertMemberAsync(memberId, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken);
        if (created)
        {
            metrics.MembersEnrolled.Inc();
        }

        await EnsureLoadedAsync(memberId, program, enrollIfMissing: false, cancellationToken);
        return created;
    }

    /// <summary>Makes Redis hold the member's state, computed from the ledger when absent.</summary>
    /// <returns>False when the member is not enrolled (and was not enrolled by this call).</returns>
    public async Task<bool> EnsureLoadedAsync(string memberId, LoyaltyProgram program, bool enrollIfMissing, CancellationToken cancellationToken)
    {
        var totals = await ledger.MemberTotalsAsync(memberId, cancellationToken);
        if (totals is null)
        {
            if (!enrollIfMissing)
            {
                return false;
            }

            if (await ledger.InsertMemberAsync(memberId, time.GetUtcNow().ToUnixTimeMilliseconds(), cancellationToken))
            {
                metrics.MembersEnrolled.Inc();
            }

            totals = await ledger.MemberTotalsAsync(memberId, cancellationToken)
                ?? throw new InvalidOperationException($"Member {memberId} vanished right after enrolment.");
        }

        await hotState.LoadAsync(memberId, ToLoad(totals, program), replace: false);
        return true;
    }

    public async Task<StoredMember?> GetAsync(string memberId, LoyaltyProgram program, CancellationToken cancellationToken)
    {
        var stored = await hotState.ReadAsync(memberId);
        if (stored is null && await EnsureLoadedAsync(memberId, program, enrollIfMissing: false, cancellationToken))
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
            var totals = await ledger.MemberTotalsAsync(memberId, cancellationToken);
            if (totals is null)
            {
                return false;
            }

            if (await hotState.LoadAsync(memberId, ToLoad(totals, program), replace: true) >= 0)
            {
                snapshots.Remove(memberId);
                return true;
            }
        }

        throw new InvalidOperationException($"Member {memberId} kept receiving transactions during the rebuild; try again.");
    }

    public async Task<int> RebuildAllAsync(LoyaltyProgram program, CancellationToken cancellationToken)
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

            after = page[^1];
        }
    }

    /// <summary>Commits entries that Redis applied but whose request never saw a commit (crash, ledger outage).</summary>
    /// <param name="minimumAge">Leaves alone entries younger than this: their own request is most likely committing them.</param>
    public async Task<int> RecoverPendingAsync(string memberId, TimeSpan minimumAge)
    {
        var cutoff = (time.GetUtcNow() - minimumAge).ToUnixTimeMilliseconds();
        var entries = await hotState.ReadPendingAsync(memberId);
        var stale = entries.Where(e => e.RecordedAtUnixMs <= cutoff).ToList();
        if (stale.Count == 0)
        {
            return 0;
        }

        await Task.WhenAll(stale.Select(writer.AppendAsync));
        metrics.PendingEntriesRecovered.Inc(stale.Count);
        LogRecovered(logger, stale.Count, memberId);
        return stale.Count;
    }

    private static MemberLoad ToLoad(MemberTotals totals, LoyaltyProgram program) => new(
        totals.Balance,
        totals.LifetimeSpendMinor,
        program.Tiers.ForLifetimeSpend(totals.LifetimeSpendMinor).Id,
        totals.Purchases,
        totals.EnrolledAtMs,
        HasHistory: totals.Entries > 0);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committed {Count} pending ledger entries of member {MemberId}")]
    private static partial void LogRecovered(ILogger logger, int count, string memberId);
}
