using Dapper;

namespace LoyaltyCore.Server.Ledger;

/// <summary>The sums of a partner's account rows over a period (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class AccountSums
{
    public long Funded { get; set; }

    public long CreditedBack { get; set; }
}

/// <summary>The count and points of a partner's budget draws (one offer's, or its credit's) over a period.</summary>
internal sealed class DrawSums
{
    public string Budget { get; set; } = string.Empty;

    public long Count { get; set; }

    public long Points { get; set; }
}

/// <summary>
/// A partner's settlement, read from the ledger: its account rows and budget draws (<c>campaign_draws</c>), each in
/// the period its ledger row was recorded in.
/// </summary>
internal sealed class SettlementStore(LedgerDatabase database)
{
    public async Task<AccountSums> AccountAsync(string account, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleAsync<AccountSums>(new CommandDefinition($"""
            SELECT COALESCE(SUM(CASE WHEN d.points > 0 THEN d.points ELSE 0 END), 0) AS Funded,
                COALESCE(SUM(CASE WHEN d.points < 0 THEN -d.points ELSE 0 END), 0) AS CreditedBack
            FROM campaign_draws d JOIN ledger_entries e ON e.member_id = d.member_id AND e.transaction_id = d.transaction_id
            WHERE d.campaign_id = @Account AND {Period()}
            """, new { Account = account, FromMs = fromMs, ToMs = toMs }, cancellationToken: cancellationToken));
    }

    /// <summary>The draws of every budget whose id starts with <paramref name="prefix"/> (compared exactly: ids hold '_').</summary>
    public async Task<IReadOnlyList<DrawSums>> DrawsAsync(string prefix, long fromMs, long toMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var sums = await connection.QueryAsync<DrawSums>(new CommandDefinition($"""
            SELECT d.campaign_id AS Budget, COUNT(*) AS Count, COALESCE(SUM(d.points), 0) AS Points
            FROM campaign_draws d JOIN ledger_entries e ON e.member_id = d.member_id AND e.transaction_id = d.transaction_id
            WHERE substr(d.campaign_id, 1, @PrefixLength) = @Prefix AND d.points > 0 AND {Period()}
            GROUP BY d.campaign_id ORDER BY d.campaign_id
            """, new { Prefix = prefix, PrefixLength = prefix.Length, FromMs = fromMs, ToMs = toMs }, cancellationToken: cancellationToken));
        return sums.AsList();
    }

    private string Period() => database.Sql.Dialect == "postgres"
        ? "e.recorded_at >= 'epoch'::timestamptz + @FromMs * interval '1 millisecond' AND e.recorded_at < 'epoch'::timestamptz + @ToMs * interval '1 millisecond'"
        : "e.recorded_at_ms >= @FromMs AND e.recorded_at_ms < @ToMs";
}
