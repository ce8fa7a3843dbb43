namespace LoyaltyCore.Server.Ledger;

/// <summary>The statements whose text differs between PostgreSQL and SQLite; everything else is shared.</summary>
internal sealed record LedgerSql(
    string Dialect,
    bool BatchInsertWithArrays,
    string InsertEntries,
    string InsertMember,
    string MemberTotals)
{
    public const string FindTransaction = """
        SELECT member_id AS MemberId, fingerprint AS Fingerprint, response AS Response
        FROM ledger_entries WHERE member_id = @MemberId AND transaction_id = @TransactionId
        """;

    public const string MemberIdsAfter = """
        SELECT member_id FROM members WHERE member_id > @After ORDER BY member_id LIMIT @Limit
        """;

    /// <summary>One statement for the whole batch: columns travel as arrays and are unnested server-side.</summary>
    public static LedgerSql Postgres { get; } = new(
        "postgres",
        BatchInsertWithArrays: true,
        InsertEntries: """
            INSERT INTO ledger_entries (transaction_id, member_id, kind, points, spend_minor, store_id, channel,
                occurred_at, recorded_at, program_version, rule_ids, tier_after, balance_after, fingerprint, response)
            SELECT t.transaction_id, t.member_id, t.kind, t.points, t.spend_minor, t.store_id, t.channel,
                'epoch'::timestamptz + t.occurred_ms * interval '1 millisecond',
                'epoch'::timestamptz + t.recorded_ms * interval '1 millisecond',
                t.program_version, t.rule_ids, t.tier_after, t.balance_after, t.fingerprint, t.response
            FROM unnest(@TransactionIds, @MemberIds, @Kinds, @Points, @Spends, @StoreIds, @Channels, @OccurredMs,
                @RecordedMs, @ProgramVersions, @RuleIds, @TiersAfter, @BalancesAfter, @Fingerprints, @Responses)
                AS t(transaction_id, member_id, kind, points, spend_minor, store_id, channel, occurred_ms,
                    recorded_ms, program_version, rule_ids, tier_after, balance_after, fingerprint, response)
            ON CONFLICT (member_id, transaction_id) DO NOTHING
            """,
        InsertMember: """
            INSERT INTO members (member_id, enrolled_at)
            VALUES (@MemberId, 'epoch'::timestamptz + @EnrolledAtMs * interval '1 millisecond')
            ON CONFLICT (member_id) DO NOTHING
            """,
        MemberTotals: """
            SELECT (extract(epoch FROM m.enrolled_at) * 1000)::bigint AS EnrolledAtMs,
                COALESCE(SUM(e.points), 0)::bigint AS Balance,
                COALESCE(SUM(e.spend_minor), 0)::bigint AS LifetimeSpendMinor,
                COUNT(*) FILTER (WHERE e.kind = 1) AS Purchases,
                COUNT(e.transaction_id) AS Entries
            FROM members m LEFT JOIN ledger_entries e ON e.member_id = m.member_id
            WHERE m.member_id = @MemberId
            GROUP BY m.enrolled_at
            """);

    /// <summary>SQLite is in-process: one prepared insert per row inside the batch's transaction costs no round trips.</summary>
    public static LedgerSql Sqlite { get; } = new(
        "sqlite",
        BatchInsertWithArrays: false,
        InsertEntries: """
            INSERT INTO ledger_entries (transaction_id, member_id, kind, points, spend_minor, store_id, channel,
                occurred_at_ms, recorded_at_ms, program_version, rule_ids, tier_after, balance_after, fingerprint, response)
            VALUES (@TransactionId, @MemberId, @Kind, @Points, @SpendMinor, @StoreId, @Channel, @OccurredAtMs,
                @RecordedAtMs, @ProgramVersion, @RuleIds, @TierAfter, @BalanceAfter, @Fingerprint, @Response)
            ON CONFLICT (member_id, transaction_id) DO NOTHING
            """,
        InsertMember: """
            INSERT INTO members (member_id, enrolled_at_ms) VALUES (@MemberId, @EnrolledAtMs)
            ON CONFLICT (member_id) DO NOTHING
            """,
        MemberTotals: """
            SELECT m.enrolled_at_ms AS EnrolledAtMs,
                COALESCE(SUM(e.points), 0) AS Balance,
                COALESCE(SUM(e.spend_minor), 0) AS LifetimeSpendMinor,
                COALESCE(SUM(CASE WHEN e.kind = 1 THEN 1 ELSE 0 END), 0) AS Purchases,
                COUNT(e.transaction_id) AS Entries
            FROM members m LEFT JOIN ledger_entries e ON e.member_id = m.member_id
            WHERE m.member_id = @MemberId
            GROUP BY m.enrolled_at_ms
            """);
}
