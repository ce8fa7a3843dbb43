using System.Reflection;
using Dapper;
using LoyaltyCore.Server.Configuration;

namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// Applies the numbered SQL scripts under Ledger/Migrations/{dialect} that the database has not seen, each in its
/// own transaction, recording them in <c>schema_migrations</c>. A script whose first line is
/// <c>-- migrate: no-transaction</c> (an index built CONCURRENTLY, which no transaction may hold) runs its statements
/// one by one instead, and must be safe to run again from the start if it stops half way.
/// </summary>
internal sealed partial class LedgerMigrator(LedgerDatabase database, ILogger<LedgerMigrator> logger)
{
    private const long AdvisoryLockKey = 7_420_001;
    private const string NoTransaction = "-- migrate: no-transaction";

    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = Scripts(database.Sql.Dialect);
        await using var connection = await database.OpenAsync(cancellationToken);
        var postgres = database.Provider == LedgerProvider.Postgres;
        if (postgres)
        {
            // Servers starting together must not race to create or apply the same thing; a session lock covers both.
            // They poll for it rather than wait in a statement: a waiting statement holds a snapshot, which an index
            // built CONCURRENTLY by the lock's holder would wait for in turn.
            while (!await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key = AdvisoryLockKey }))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            }
        }
        else
        {
            // Readers never wait for the writer; synchronous=FULL (the default) keeps commits durable.
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL;");
        }

        try
        {
            await connection.ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version INTEGER PRIMARY KEY,
                    name    TEXT NOT NULL
                )
                """);

            var applied = 0;
            foreach (var (version, name, sql) in scripts)
            {
                var seen = await connection.ExecuteScalarAsync<long>(
                    "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version });
                if (seen > 0)
                {
                    continue;
                }

                if (sql.StartsWith(NoTransaction, StringComparison.Ordinal))
                {
                    foreach (var statement in Statements(sql))
                    {
                        await connection.ExecuteAsync(statement);
                    }

                    await connection.ExecuteAsync(
                        "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", new { version, name });
                }
                else
                {
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                    await connection.ExecuteAsync(sql, transaction: transaction);
                    await connection.ExecuteAsync(
                        "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", new { version, name }, transaction);
                    await transaction.CommitAsync(cancellationToken);
                }

                LogApplied(logger, name, database.Sql.Dialect);
                applied++;
            }

            return applied;
        }
        finally
        {
            if (postgres)
            {
                // The connection returns to the pool, so the session lock would outlive it otherwise.
                await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey });
            }
        }
    }

    /// <summary>A script's statements: each ends with a ';' at the end of a line (comments carry none).</summary>
    private static IEnumerable<string> Statements(string sql) =>
        sql.ReplaceLineEndings("\n").Split(";\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(statement => statement.TrimEnd(';'))
            .Where(statement => statement.Split('\n').Any(line => !line.TrimStart().StartsWith("--", StringComparison.Ordinal) && line.Trim().Length > 0));

    private static List<(int Version, string Name, string Sql)> Scripts(string dialect)
    {
        var prefix = $"Migrations.{dialect}.";
        var assembly = Assembly.GetExecutingAssembly();
        var scripts = new List<(int, string, string)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[prefix.Length..];
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            scripts.Add((int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture), name, reader.ReadToEnd()));
        }

        return scripts;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied ledger migration {Name} ({Dialect})")]
    private static partial void LogApplied(ILogger logger, string name, string dialect);
}
