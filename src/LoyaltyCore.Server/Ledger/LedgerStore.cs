using Dapper;

namespace LoyaltyCore.Server.Ledger;

internal sealed record StoredTransaction(string MemberId, byte[] Fingerprint, byte[] Response);

internal sealed record StoredMember(long EnrolledAtMs, string? ReferredBy);

/// <summary>Settable rather than positional: SQLite reports no column types for an empty result, which defeats constructor mapping.</summary>
internal sealed class HistoryEntry
{
    public long Kind { get; set; }

    public long Points { get; set; }

    public long SpendMinor { get; set; }

    public byte[]? Changes { get; set; }

    /// <summary>The member's change number (0 for rows written before changes were numbered).</summary>
    public long Sequence { get; set; }

    /// <summary>The change's id (0 for rows written before change ids).</summary>
    public long ChangeId { get; set; }
}

internal sealed record StoredProgram(string Version, string Document, long ActivatedAtMs);

/// <summary>One activation of a program version (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class ProgramActivationRow
{
    /// <summary>The activation's sequence number: later activations have larger ones.</summary>
    public long Id { get; set; }

    public string Version { get; set; } = string.Empty;

    public string Document { get; set; } = string.Empty;

    public long ActivatedAtMs { get; set; }
}

/// <summary>A scored purchase as its row keeps it: the answer (with its lines and awards) and when it happened.</summary>
internal sealed class StoredPurchase
{
    public byte[] Response { get; set; } = [];

    public long OccurredAtMs { get; set; }
}

/// <summary>A hold past its expiry that no row ends yet (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class ExpiredHold
{
    public string MemberId { get; set; } = string.Empty;

    public string HoldId { get; set; } = string.Empty;

    public long ExpiresAtMs { get; set; }
}

/// <summary>How far the expiry run of a day got (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class ExpiryRunState
{
    /// <summary>The day (yyyymmdd) of the marks the run had got to; 0 before its first member.</summary>
    public long AfterDay { get; set; }

    public string AfterMember { get; set; } = string.Empty;

    public bool Finished { get; set; }
}

/// <summary>One row of a member's history, as the ledger holds it (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class TransactionRow
{
    public string TransactionId { get; set; } = string.Empty;

    public long Kind { get; set; }

    public long Points { get; set; }

    public long SpendMinor { get; set; }

    public string StoreId { get; set; } = string.Empty;

    public long Channel { get; set; }

    public long OccurredAtMs { get; set; }

    public long RecordedAtMs { get; set; }

    public string ProgramVersion { get; set; } = string.Empty;

    public string RuleIds { get; set; } = string.Empty;

    public string TierAfter { get; set; } = string.Empty;

    public long BalanceAfter { get; set; }

    public byte[] Response { get; set; } = [];

    public string? RefersTo { get; set; }
}

/// <summary>Which of a member's rows a history page holds.</summary>
/// <param name="Kinds">Entry kinds to keep; empty for all.</param>
/// <param name="FromMs">Inclusive lower bound of the occurred time, if any.</param>
/// <param name="ToMs">Exclusive upper bound of the occurred time, if any.</param>
/// <param name="After">The last row of the previous page (newest first), if any.</param>
internal sealed record TransactionPageQuery(
    string MemberId, IReadOnlyList<int> Kinds, long? FromMs, long? ToMs, (long OccurredAtMs, string TransactionId)? After, int Limit);

/// <summary>
/// The ledger outside the batched entry writes: members, the last guard for idempotency, the history Redis is
/// rebuilt from, published programs and campaign spending.
/// </summary>
internal sealed class LedgerStore(LedgerDatabase database)
{
    public async Task<StoredTransaction?> FindTransactionAsync(string memberId, string transactionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredTransaction>(new CommandDefinition(
            LedgerSql.FindTransaction, new { MemberId = memberId, TransactionId = transactionId }, cancellationToken: cancellationToken));
    }

    public async Task<StoredPurchase?> PurchaseAsync(string memberId, string transactionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredPurchase>(new CommandDefinition(
            database.Sql.Purchase, new { MemberId = memberId, TransactionId = transactionId }, cancellationToken: cancellationToken));
    }

    /// <summary>Whether the member's ledger has an authorization of that id (whatever became of the hold since).</summary>
    public async Task<bool> HoldExistsAsync(string memberId, string holdId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            LedgerSql.HoldExists, new { MemberId = memberId, TransactionId = holdId }, cancellationToken: cancellationToken)) is not null;
    }

    /// <summary>A page of holds past their expiry at <paramref name="nowMs"/> that no row ends, after the cursor.</summary>
    public async Task<IReadOnlyList<ExpiredHold>> ExpiredHoldsAsync(long nowMs, ExpiredHold after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ExpiredHold>(new CommandDefinition(
            LedgerSql.ExpiredHolds,
            new { NowMs = nowMs, AfterMs = after.ExpiresAtMs, AfterMember = after.MemberId, AfterHold = after.HoldId, Limit = limit },
            cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<StoredMember?> MemberAsync(string memberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredMember>(new CommandDefinition(
            database.Sql.Member, new { MemberId = memberId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<HistoryEntry>> HistoryAsync(string memberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var entries = await connection.QueryAsync<HistoryEntry>(new CommandDefinition(
            database.Sql.MemberHistory, new { MemberId = memberId }, cancellationToken: cancellationToken));
        return entries.AsList();
    }

    public async Task<IReadOnlyList<TransactionRow>> TransactionPageAsync(TransactionPageQuery query, CancellationToken cancellationToken)
    {
        var sql = database.Sql.TransactionPage(query.Kinds.Count > 0, query.FromMs is not null, query.ToMs is not null, query.After is not null);
        var parameters = new
        {
            query.MemberId,
            Kinds = query.Kinds.ToArray(),
            query.FromMs,
            query.ToMs,
            AfterOccurredMs = query.After?.OccurredAtMs,
            AfterTransactionId = query.After?.TransactionId,
            query.Limit,
        };
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<TransactionRow>(new CommandDefinition(sql, parameters, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    /// <summary>Inserts the member if absent. Returns whether this call created it.</summary>
    public async Task<bool> InsertMemberAsync(string memberId, long enrolledAtMs, string? referredBy, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            database.Sql.InsertMember, new { MemberId = memberId, EnrolledAtMs = enrolledAtMs, ReferredBy = referredBy }, cancellationToken: cancellationToken));
        return inserted == 1;
    }

    /// <param name="birthday">Month * 100 + day, or null to clear it.</param>
    public async Task SetBirthdayAsync(string memberId, int? birthday, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(LedgerSql.SetBirthday, new { MemberId = memberId, Birthday = birthday }, cancellationToken: cancellationToken));
    }

    /// <summary>A page of the members whose birthday (month * 100 + day) is in [from, to], after a member id.</summary>
    public async Task<IReadOnlyList<string>> BirthdayMemberIdsAfterAsync(int from, int to, string after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            LedgerSql.BirthdayMemberIdsAfter, new { From = from, To = to, After = after, Limit = limit }, cancellationToken: cancellationToken));
        return ids.AsList();
    }

    public async Task<IReadOnlyList<string>> MemberIdsAfterAsync(string after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            LedgerSql.MemberIdsAfter, new { After = after, Limit = limit }, cancellationToken: cancellationToken));
        return ids.AsList();
    }

    /// <summary>The first day after <paramref name="after"/>, up to <paramref name="asOf"/>, on which a row marks points due; null for none.</summary>
    public async Task<int?> NextLotDayAsync(int after, int asOf, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            LedgerSql.NextLotDay, new { After = after, AsOf = asOf }, cancellationToken: cancellationToken));
    }

    /// <summary>A page of the members a row marks as having points due on <paramref name="day"/>, after a member id.</summary>
    public async Task<IReadOnlyList<string>> LotsDueMemberIdsAsync(int day, string after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            LedgerSql.LotsDueMemberIds, new { Day = day, After = after, Limit = limit }, cancellationToken: cancellationToken));
        return ids.AsList();
    }

    /// <summary>The expiry run of a day, created if new; and the last day before it whose run finished (0 for none).</summary>
    public async Task<(ExpiryRunState Run, int LastFinished)> StartExpiryRunAsync(int asOf, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(LedgerSql.StartExpiryRun, new { AsOf = asOf, Finished = false }, cancellationToken: cancellationToken));
        var run = await connection.QuerySingleAsync<ExpiryRunState>(new CommandDefinition(LedgerSql.ExpiryRun, new { AsOf = asOf }, cancellationToken: cancellationToken));
        var last = await connection.ExecuteScalarAsync<int?>(new CommandDefinition(
            LedgerSql.LastFinishedExpiryRun, new { AsOf = asOf, Finished = true }, cancellationToken: cancellationToken));
        return (run, last ?? 0);
    }

    public async Task AdvanceExpiryRunAsync(int asOf, int day, string after, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(LedgerSql.AdvanceExpiryRun, new { AsOf = asOf, Day = day, After = after }, cancellationToken: cancellationToken));
    }

    public async Task FinishExpiryRunAsync(int asOf, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(LedgerSql.FinishExpiryRun, new { AsOf = asOf, Finished = true }, cancellationToken: cancellationToken));
    }

    /// <summary>The sequence of each member's last ledger row (members without rows are absent).</summary>
    public async Task<Dictionary<string, long>> LastSequencesAsync(IReadOnlyList<string> memberIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string MemberId, long Sequence)>(new CommandDefinition(database.Sql.Dialect == "postgres"
            ? "SELECT member_id, COALESCE(MAX(member_seq), 0) FROM ledger_entries WHERE member_id = ANY(@Ids) GROUP BY member_id"
            : "SELECT member_id, COALESCE(MAX(member_seq), 0) FROM ledger_entries WHERE member_id IN @Ids GROUP BY member_id",
            new { Ids = memberIds.ToArray() }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => r.MemberId, r => r.Sequence, StringComparer.Ordinal);
    }

    public async Task<long> CampaignDrawnAsync(string campaignId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            LedgerSql.CampaignDrawn, new { CampaignId = campaignId }, cancellationToken: cancellationToken));
    }

    /// <summary>Stores a program version (if new) and makes it the active one, in one transaction.</summary>
    /// <returns>Whether the version was new.</returns>
    public async Task<bool> PublishProgramAsync(string programId, string version, string document, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var created = await connection.ExecuteAsync(new CommandDefinition(
            database.Sql.InsertProgram, new { Version = version, ProgramId = programId, Document = document }, transaction, cancellationToken: cancellationToken)) == 1;
        await connection.ExecuteAsync(new CommandDefinition(database.Sql.ActivateProgram, new { Version = version }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return created;
    }

    public async Task<StoredProgram?> ActiveProgramAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredProgram>(new CommandDefinition(database.Sql.ActiveProgram, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// The activations in the order they were made (the last is the active version), from the one active at
    /// <paramref name="sinceMs"/> on, each with its version's document; every activation when none is that old.
    /// </summary>
    public async Task<IReadOnlyList<ProgramActivationRow>> ProgramActivationsAsync(long sinceMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<ProgramActivationRow>(new CommandDefinition(
            database.Sql.ProgramActivations, new { SinceMs = sinceMs }, cancellationToken: cancellationToken));
        return rows.AsList();
    }

    public async Task<StoredProgram?> ProgramAsync(string version, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredProgram>(new CommandDefinition(
            database.Sql.ProgramByVersion, new { Version = version }, cancellationToken: cancellationToken));
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)) == 1;
    }
}
