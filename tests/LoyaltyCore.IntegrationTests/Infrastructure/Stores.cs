using Dapper;
using Npgsql;
using StackExchange.Redis;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>Direct reads of the ledger, to check what the server says against what it committed.</summary>
internal static class Ledger
{
    private static readonly Lazy<NpgsqlDataSource> DataSource = new(() => NpgsqlDataSource.Create(TestEnvironment.Postgres));

    private static async Task<NpgsqlConnection> OpenAsync(string? database)
    {
        if (database is null)
        {
            return await DataSource.Value.OpenConnectionAsync();
        }

        var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A fresh, empty database on the test server; returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var name = "loyalty_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = await DataSource.Value.OpenConnectionAsync())
        {
            await connection.ExecuteAsync($"CREATE DATABASE {name}");
        }

        return new NpgsqlConnectionStringBuilder(TestEnvironment.Postgres) { Database = name }.ConnectionString;
    }

    public static async Task<long> CountAsync(string memberId, string? transactionId = null, string? database = null)
    {
        await using var connection = await OpenAsync(database);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COUNT(*) FROM ledger_entries WHERE member_id = @memberId AND (@transactionId::text IS NULL OR transaction_id = @transactionId)",
            new { memberId, transactionId });
    }

    public static async Task<(string Version, string Rules)> VersionAndRulesAsync(string database, string memberId)
    {
        await using var connection = await OpenAsync(database);
        return await connection.QuerySingleAsync<(string, string)>(
            "SELECT program_version, rule_ids FROM ledger_entries WHERE member_id = @memberId AND kind = 1", new { memberId });
    }

    /// <summary>The program version each of the member's purchases was scored with, by transaction id.</summary>
    public static async Task<IReadOnlyDictionary<string, string>> PurchaseVersionsAsync(string database, string memberId)
    {
        await using var connection = await OpenAsync(database);
        var rows = await connection.QueryAsync<(string, string)>(
            "SELECT transaction_id, program_version FROM ledger_entries WHERE member_id = @memberId AND kind = 1", new { memberId });
        return rows.ToDictionary(r => r.Item1, r => r.Item2, StringComparer.Ordinal);
    }

    /// <summary>
    /// Moves a version's activation to <paramref name="at"/>, as if it had been published then: the ledger records
    /// activations at the database's clock, so a test that needs a history in the past writes it there.
    /// </summary>
    public static async Task MoveActivationAsync(string database, string version, DateTimeOffset at)
    {
        await using var connection = await OpenAsync(database);
        var moved = await connection.ExecuteAsync(
            "UPDATE program_activations SET activated_at = @at WHERE version = @version", new { version, at = at.ToUniversalTime() });
        Assert.Equal(1, moved);
    }

    /// <summary>
    /// Moves every activation back by the same amount, so that the latest one happened at <paramref name="at"/> and
    /// the versions before it were active, in the same order, before that.
    /// </summary>
    public static async Task MoveActivationsBackAsync(string database, DateTimeOffset at)
    {
        await using var connection = await OpenAsync(database);
        await connection.ExecuteAsync(
            "UPDATE program_activations SET activated_at = activated_at - ((SELECT max(activated_at) FROM program_activations) - @at)", new { at = at.ToUniversalTime() });
    }

    public static async Task<long> CampaignDrawnAsync(string database, string campaignId)
    {
        await using var connection = await OpenAsync(database);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(points), 0)::bigint FROM campaign_draws WHERE campaign_id = @campaignId", new { campaignId });
    }

    public static async Task<IReadOnlyList<(string Version, string Rules)>> EntriesAsync(string database, IEnumerable<string> memberIds)
    {
        await using var connection = await OpenAsync(database);
        var rows = await connection.QueryAsync<(string, string)>(
            "SELECT program_version, rule_ids FROM ledger_entries WHERE member_id = ANY(@ids) AND kind = 1", new { ids = memberIds.ToArray() });
        return rows.AsList();
    }

    /// <summary>The member's rows in the order a rebuild replays them: by member sequence, then recorded time.</summary>
    public static async Task<IReadOnlyList<(long Sequence, long BalanceAfter)>> ReplayOrderAsync(string memberId)
    {
        await using var connection = await OpenAsync(null);
        var rows = await connection.QueryAsync<(long, long)>(
            """
            SELECT COALESCE(member_seq, 0), balance_after FROM ledger_entries WHERE member_id = @memberId
            ORDER BY COALESCE(member_seq, 0), recorded_at, transaction_id
            """, new { memberId });
        return rows.AsList();
    }

    /// <summary>
    /// Each of the member's rows, in the order Redis applied them, that does not record the balance its points and
    /// every row before it make: a change applied on a state that missed a committed row records another one.
    /// </summary>
    public static async Task<IReadOnlyList<string>> BalancesOffTheLedgerAsync(string memberId, string database)
    {
        await using var connection = await OpenAsync(database);
        var rows = await connection.QueryAsync<(long Sequence, string TransactionId, long Points, long BalanceAfter)>(
            """
            SELECT COALESCE(member_seq, 0), transaction_id, points, balance_after FROM ledger_entries WHERE member_id = @memberId
            ORDER BY COALESCE(member_seq, 0), recorded_at, transaction_id
            """, new { memberId });
        var off = new List<string>();
        long balance = 0;
        foreach (var (sequence, transactionId, points, balanceAfter) in rows)
        {
            balance += points;
            if (balanceAfter != balance)
            {
                off.Add($"#{sequence} {transactionId}: records {balanceAfter}, the ledger makes {balance}");
            }
        }

        return off;
    }

    /// <summary>The ledger's own totals, to hold the KPI rollups against: rows, points, members with a row.</summary>
    public static async Task<(long Rows, long Points, long Members)> TotalsAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        return await connection.QuerySingleAsync<(long, long, long)>(
            "SELECT COUNT(*), COALESCE(SUM(points), 0)::bigint, COUNT(DISTINCT member_id) FROM ledger_entries");
    }

    /// <summary>The KPI rollups' totals: rows counted, net points, members.</summary>
    public static async Task<(long Rows, long Points, long Members)> RollupTotalsAsync(string database)
    {
        await using var connection = await OpenAsync(database);
        return await connection.QuerySingleAsync<(long, long, long)>(
            "SELECT COALESCE(SUM(entries), 0)::bigint, (COALESCE(SUM(credits), 0) - COALESCE(SUM(debits), 0))::bigint, (SELECT COUNT(*) FROM kpi_members) FROM kpi_daily");
    }

    public static async Task<long> SumPointsAsync(string memberId, string? database = null)
    {
        await using var connection = await OpenAsync(database);
        return await connection.ExecuteScalarAsync<long>(
            "SELECT COALESCE(SUM(points), 0)::bigint FROM ledger_entries WHERE member_id = @memberId", new { memberId });
    }
}

/// <summary>Direct access to the hot state, to make Redis forget things as a restart or an expiry would.</summary>
internal static class HotState
{
    private static readonly Lazy<ConnectionMultiplexer> Connection = new(() => ConnectionMultiplexer.Connect(TestEnvironment.Redis));

    public static IDatabase Database => Connection.Value.GetDatabase();

    public static IServer Node => Connection.Value.GetServers()[0];

    public static Task<bool> ForgetTransactionAsync(string memberId, string transactionId) =>
        Database.KeyDeleteAsync($"lc:{{m:{memberId}}}:tx:{transactionId}");

    /// <summary>Everything Redis holds about the member, as after a restart without persistence.</summary>
    public static async Task ForgetMemberAsync(string memberId)
    {
        var server = Connection.Value.GetServers()[0];
        await foreach (var key in server.KeysAsync(pattern: $"lc:{{m:{memberId}}}:*"))
        {
            await Database.KeyDeleteAsync(key);
        }
    }

    public static async Task<long> BalanceAsync(string memberId) =>
        (long)await Database.HashGetAsync($"lc:{{m:{memberId}}}:s", "b");

    public static Task SetBalanceAsync(string memberId, long balance) =>
        Database.HashSetAsync($"lc:{{m:{memberId}}}:s", "b", balance);

    /// <summary>
    /// The member's balance, tier, engine counters, and the number and id of their last change, as Redis holds them,
    /// in key order.
    /// </summary>
    public static async Task<IReadOnlyList<(string Field, string Value)>> StateAsync(string memberId) =>
        [.. (await Database.HashGetAllAsync($"lc:{{m:{memberId}}}:s"))
            .Where(e => e.Name == "b" || e.Name == "t" || e.Name == "q" || e.Name == "c" || e.Name.ToString().StartsWith("k.", StringComparison.Ordinal))
            .Select(e => (e.Name.ToString(), e.Value.ToString()))
            .OrderBy(e => e.Item1, StringComparer.Ordinal)];
}
