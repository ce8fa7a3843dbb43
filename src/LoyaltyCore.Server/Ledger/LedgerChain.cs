using Dapper;
using LoyaltyCore.Server.Ledger.Contracts;
using Npgsql;

namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// Each change names the one the hot state applied it after (<see cref="LedgerEntry.PreviousChangeId"/>). A change is
/// recorded only after the ledger holds that one under the number before its own: a change applied on a state that had
/// lost a committed change (a Redis replica promoted before it received it), or applied after a change the ledger
/// refused, is refused too, however many were chained on that state. PostgreSQL only: the embedded ledger's single
/// hot state has no replica to fail over to.
/// </summary>
internal static class LedgerChain
{
    // Through the partial unique index on (member_id, member_seq): one probe per checked entry. A row without a change
    // id (written before change ids, by an older server in a rolling upgrade) is taken on trust, as before.
    private const string Predecessors = """
        SELECT c.ord - 1 AS Position, p.found IS NOT NULL AS Found,
            EXISTS (SELECT 1 FROM ledger_refusals r WHERE r.member_id = c.member_id AND r.change_id = c.previous) AS Refused
        FROM unnest(@MemberIds, @Sequences, @Previous) WITH ORDINALITY AS c(member_id, seq, previous, ord)
        LEFT JOIN LATERAL (
            SELECT TRUE AS found, e.change_id FROM ledger_entries e
            WHERE e.member_id = c.member_id AND e.member_seq = c.seq - 1
                AND e.member_seq IS NOT NULL AND e.ingest_xid IS NOT NULL
            LIMIT 1) p ON TRUE
        WHERE p.found IS NULL OR p.change_id <> c.previous
        """;

    private const string InsertRefusals = """
        INSERT INTO ledger_refusals (member_id, change_id)
        SELECT * FROM unnest(@MemberIds, @ChangeIds)
        ON CONFLICT DO NOTHING
        """;

    /// <summary>Where a change stands against the one it names.</summary>
    public enum Verdict
    {
        /// <summary>The ledger holds the named change under the number before: the change may be recorded.</summary>
        Follows,

        /// <summary>The ledger holds another change under that number, or refused the named one: never recordable.</summary>
        Stale,

        /// <summary>The named change is not committed yet, nor being committed here: ask again a little later.</summary>
        Waiting,

        /// <summary>This server is committing the named change: ask again once it is settled.</summary>
        WaitingHere,

        /// <summary>A change under the number before is in this very batch: ask again once the batch is written.</summary>
        AfterBatch,
    }

    /// <summary>The entries that may not be written now; every other entry follows its predecessor.</summary>
    /// <remarks>
    /// An entry may go in the same batch as the change it follows: the writer undoes a batch that would record it
    /// without that change (<see cref="RidingOn"/>).
    /// </remarks>
    /// <param name="committed">The changes this server committed last: the ledger holds them.</param>
    /// <param name="committing">Whether this server is committing the member's change of that id right now.</param>
    /// <returns>Null when every entry may be written.</returns>
    public static async Task<Dictionary<LedgerEntry, Verdict>?> CheckAsync(
        NpgsqlConnection connection, List<LedgerEntry> entries, RecentChanges committed, Func<string, long, bool> committing)
    {
        Dictionary<LedgerEntry, Verdict>? verdicts = null;
        List<LedgerEntry>? asked = null;
        Dictionary<(string MemberId, long Sequence), LedgerEntry>? numbered = null;
        List<(LedgerEntry Entry, LedgerEntry Predecessor)>? riding = null;
        foreach (var entry in entries)
        {
            if (entry.PreviousChangeId == 0 || entry.MemberSequence <= 1)
            {
                continue;
            }

            numbered ??= Numbered(entries);
            if (numbered.TryGetValue((entry.MemberId, entry.MemberSequence - 1), out var before))
            {
                if (before.ChangeId == entry.PreviousChangeId)
                {
                    // Written with it, or not at all: it stands or falls with the change it follows.
                    (riding ??= []).Add((entry, before));
                }
                else
                {
                    (verdicts ??= new(ReferenceEqualityComparer.Instance))[entry] = Verdict.AfterBatch;
                }

                continue;
            }

            if (committed.Contains(entry.MemberId, entry.PreviousChangeId))
            {
                continue;
            }

            if (committing(entry.MemberId, entry.PreviousChangeId))
            {
                (verdicts ??= new(ReferenceEqualityComparer.Instance))[entry] = Verdict.WaitingHere;
                continue;
            }

            (asked ??= []).Add(entry);
        }

        if (asked is not null)
        {
            // Prepared: on a busy ledger this runs with most commits, and planning it would cost more than running it.
            await using var command = new NpgsqlCommand(Predecessors, connection);
            command.Parameters.Add(new NpgsqlParameter<string[]>("MemberIds", [.. asked.Select(e => e.MemberId)]));
            command.Parameters.Add(new NpgsqlParameter<long[]>("Sequences", [.. asked.Select(e => e.MemberSequence)]));
            command.Parameters.Add(new NpgsqlParameter<long[]>("Previous", [.. asked.Select(e => e.PreviousChangeId)]));
            await command.PrepareAsync();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var verdict = reader.GetBoolean(1) || reader.GetBoolean(2) ? Verdict.Stale : Verdict.Waiting;
                (verdicts ??= new(ReferenceEqualityComparer.Instance))[asked[(int)reader.GetInt64(0)]] = verdict;
            }
        }

        if (riding is not null && verdicts is not null)
        {
            // Down each chain in the batch, in member order: a change held back holds back the ones riding on it, which
            // wait for it here (and go back with it).
            foreach (var (entry, before) in riding.OrderBy(r => r.Entry.MemberSequence))
            {
                if (verdicts.TryGetValue(before, out var verdict))
                {
                    verdicts[entry] = verdict == Verdict.Stale ? Verdict.Stale : Verdict.WaitingHere;
                }
            }
        }

        return verdicts;
    }

    /// <summary>Whether an entry follows another of the batch.</summary>
    public static bool HasChainWithin(List<LedgerEntry> entries)
    {
        Dictionary<(string MemberId, long Sequence), LedgerEntry>? numbered = null;
        foreach (var entry in entries)
        {
            if (entry.PreviousChangeId != 0
                && (numbered ??= Numbered(entries)).TryGetValue((entry.MemberId, entry.MemberSequence - 1), out var before)
                && before.ChangeId == entry.PreviousChangeId)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The entries of the batch that follow, directly or down a chain, one of <paramref name="refused"/>.</summary>
    public static List<LedgerEntry> RidingOn(List<LedgerEntry> entries, IEnumerable<LedgerEntry> refused)
    {
        var fallen = new HashSet<LedgerEntry>(refused, ReferenceEqualityComparer.Instance);
        var numbered = Numbered(entries);
        var riding = new List<LedgerEntry>();
        foreach (var entry in entries.OrderBy(e => e.MemberSequence))
        {
            if (entry.PreviousChangeId != 0
                && numbered.TryGetValue((entry.MemberId, entry.MemberSequence - 1), out var before)
                && before.ChangeId == entry.PreviousChangeId
                && fallen.Contains(before)
                && fallen.Add(entry))
            {
                riding.Add(entry);
            }
        }

        return riding;
    }

    private static Dictionary<(string MemberId, long Sequence), LedgerEntry> Numbered(List<LedgerEntry> entries)
    {
        var numbered = new Dictionary<(string, long), LedgerEntry>(entries.Count);
        foreach (var entry in entries)
        {
            numbered.TryAdd((entry.MemberId, entry.MemberSequence), entry);
        }

        return numbered;
    }

    /// <summary>Records changes the ledger refused, for the changes applied after them to learn it.</summary>
    public static Task RecordRefusalsAsync(NpgsqlConnection connection, IEnumerable<LedgerEntry> refused)
    {
        var named = refused.Where(e => e.ChangeId != 0).ToList();
        return named.Count == 0
            ? Task.CompletedTask
            : connection.ExecuteAsync(InsertRefusals, new
            {
                MemberIds = named.Select(e => e.MemberId).ToArray(),
                ChangeIds = named.Select(e => e.ChangeId).ToArray(),
            });
    }
}
