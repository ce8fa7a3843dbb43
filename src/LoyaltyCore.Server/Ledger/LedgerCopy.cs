using LoyaltyCore.Server.Ledger.Contracts;
using Npgsql;
using NpgsqlTypes;

namespace LoyaltyCore.Server.Ledger;

/// <summary>
/// A batch of new entries written with PostgreSQL's binary COPY: the cheapest way in per row (measured 0.028 ms at
/// 12 rows against 0.035 for the unnest insert, 0.015 against 0.023 at 64). COPY has no ON CONFLICT, so a batch
/// holding an id the ledger already has fails whole, and the writer falls back to the insert that skips it.
/// </summary>
internal static class LedgerCopy
{
    private const string Entries = """
        COPY ledger_entries (transaction_id, member_id, kind, points, spend_minor, store_id, channel, occurred_at,
            recorded_at, program_version, rule_ids, tier_after, balance_after, fingerprint, response, changes, member_seq,
            refers_to, hold_expires_ms, lot_expires_on, change_id)
        FROM STDIN (FORMAT BINARY)
        """;

    private const string Draws = """
        COPY campaign_draws (campaign_id, member_id, transaction_id, points) FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>Writes the entries and their campaign draws in one transaction.</summary>
    /// <exception cref="PostgresException">With <see cref="PostgresErrorCodes.UniqueViolation"/>: nothing was written.</exception>
    public static async Task WriteAsync(NpgsqlConnection connection, IReadOnlyList<LedgerEntry> entries)
    {
        var draws = 0;
        foreach (var entry in entries)
        {
            draws += entry.CampaignDraws.Count;
        }

        // One COPY is atomic and durable on its own: without draws, no BEGIN/COMMIT round trips.
        await using var transaction = draws > 0 ? await connection.BeginTransactionAsync() : null;
        await using (var writer = await connection.BeginBinaryImportAsync(Entries))
        {
            foreach (var entry in entries)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(entry.TransactionId, NpgsqlDbType.Text);
                await writer.WriteAsync(entry.MemberId, NpgsqlDbType.Text);
                await writer.WriteAsync((short)entry.Kind, NpgsqlDbType.Smallint);
                await writer.WriteAsync(entry.Points, NpgsqlDbType.Bigint);
                await writer.WriteAsync(entry.SpendMinor, NpgsqlDbType.Bigint);
                await writer.WriteAsync(entry.StoreId, NpgsqlDbType.Text);
                await writer.WriteAsync((short)entry.Channel, NpgsqlDbType.Smallint);
                await writer.WriteAsync(DateTimeOffset.FromUnixTimeMilliseconds(entry.OccurredAtUnixMs).UtcDateTime, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(DateTimeOffset.FromUnixTimeMilliseconds(entry.RecordedAtUnixMs).UtcDateTime, NpgsqlDbType.TimestampTz);
                await writer.WriteAsync(entry.ProgramVersion, NpgsqlDbType.Text);
                await writer.WriteAsync(entry.RuleIds, NpgsqlDbType.Text);
                await writer.WriteAsync(entry.TierAfter, NpgsqlDbType.Text);
                await writer.WriteAsync(entry.BalanceAfter, NpgsqlDbType.Bigint);
                await writer.WriteAsync(entry.Fingerprint.Memory, NpgsqlDbType.Bytea);
                await writer.WriteAsync(entry.Response.Memory, NpgsqlDbType.Bytea);
                if (LedgerColumns.ChangesOf(entry) is { } changes)
                {
                    await writer.WriteAsync(changes, NpgsqlDbType.Bytea);
                }
                else
                {
                    await writer.WriteNullAsync();
                }

                await writer.WriteAsync(entry.MemberSequence, NpgsqlDbType.Bigint);
                if (entry.RefersTo.Length > 0)
                {
                    await writer.WriteAsync(entry.RefersTo, NpgsqlDbType.Text);
                }
                else
                {
                    await writer.WriteNullAsync();
                }

                if (entry.HoldExpiresAtUnixMs != 0)
                {
                    await writer.WriteAsync(entry.HoldExpiresAtUnixMs, NpgsqlDbType.Bigint);
                }
                else
                {
                    await writer.WriteNullAsync();
                }

                if (entry.LotExpiresOn != 0)
                {
                    await writer.WriteAsync(entry.LotExpiresOn, NpgsqlDbType.Integer);
                }
                else
                {
                    await writer.WriteNullAsync();
                }

                if (entry.ChangeId != 0)
                {
                    await writer.WriteAsync(entry.ChangeId, NpgsqlDbType.Bigint);
                }
                else
                {
                    await writer.WriteNullAsync();
                }
            }

            await writer.CompleteAsync();
        }

        if (transaction is null)
        {
            return;
        }

        await using (var writer = await connection.BeginBinaryImportAsync(Draws))
        {
            foreach (var entry in entries)
            {
                foreach (var draw in entry.CampaignDraws)
                {
                    await writer.StartRowAsync();
                    await writer.WriteAsync(draw.CampaignId, NpgsqlDbType.Text);
                    await writer.WriteAsync(entry.MemberId, NpgsqlDbType.Text);
                    await writer.WriteAsync(entry.TransactionId, NpgsqlDbType.Text);
                    await writer.WriteAsync(draw.Points, NpgsqlDbType.Bigint);
                }
            }

            await writer.CompleteAsync();
        }

        await transaction.CommitAsync();
    }
}
