using System.Reflection;
using Dapper;
using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Logging;

namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// Applies the numbered SQL scripts under Ledger/Migrations/{dialect} that the database has not seen, each in its
/// own transaction, recording them in <c>schema_migrations</c>.
/// </summary>
internal sealed partial class LedgerMigrator(LedgerDatabase database, ILogger<LedgerMigrator> logger)
{
    public async Task<int> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var scripts = Scripts(database.Sql.Dialect);
        await using var connection = await database.OpenAsync(cancellationToken);
        if (database.Provider == LedgerProvider.Sqlite)
        {
            // Readers never wait for the writer; synchronous=FULL (the default) keeps commits durable.
            await connection.ExecuteAsync("PRAGMA journal_mode=WAL;");
        }

        await connection.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL
            )
            """);

        var applied = 0;
        foreach (var (version, name, sql) in scripts)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (database.Provider == LedgerProvider.Postgres)
            {
                // Two servers starting together must not both apply the same script.
                await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(7420001)", transaction: transaction);
            }

            var seen = await connection.ExecuteScalarAsync<long>(
                "SELECT COUNT(*) FROM schema_migrations WHERE version = @version", new { version }, transaction);
            if (seen == 0)
            {
                await connection.ExecuteAsync(sql, transaction: transaction);
                await connection.ExecuteAsync(
                    "INSERT INTO schema_migrations (version, name) VALUES (@version, @name)", new { version, name }, transaction);
                LogApplied(logger, name, database.Sql.Dialect);
                applied++;
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return applied;
    }

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
