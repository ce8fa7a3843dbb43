using Dapper;

namespace LoyaltyCore.Server.Ledger;

internal sealed record StoredTransaction(string MemberId, byte[] Fingerprint, byte[] Response);

internal sealed record MemberTotals(long EnrolledAtMs, long Balance, long LifetimeSpendMinor, long Purchases, long Entries);

/// <summary>The ledger outside the batched entry writes: members, the last guard for idempotency, the totals Redis is rebuilt from.</summary>
internal sealed class LedgerStore(LedgerDatabase database)
{
    public async Task<StoredTransaction?> FindTransactionAsync(string memberId, string transactionId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredTransaction>(new CommandDefinition(
            LedgerSql.FindTransaction, new { MemberId = memberId, TransactionId = transactionId }, cancellationToken: cancellationToken));
    }

    public async Task<MemberTotals?> MemberTotalsAsync(string memberId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<MemberTotals>(new CommandDefinition(
            database.Sql.MemberTotals, new { MemberId = memberId }, cancellationToken: cancellationToken));
    }

    /// <summary>Inserts the member if absent. Returns whether this call created it.</summary>
    public async Task<bool> InsertMemberAsync(string memberId, long enrolledAtMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            database.Sql.InsertMember, new { MemberId = memberId, EnrolledAtMs = enrolledAtMs }, cancellationToken: cancellationToken));
        return inserted == 1;
    }

    public async Task<IReadOnlyList<string>> MemberIdsAfterAsync(string after, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            LedgerSql.MemberIdsAfter, new { After = after, Limit = limit }, cancellationToken: cancellationToken));
        return ids.AsList();
    }

    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: cancellationToken)) == 1;
    }
}
