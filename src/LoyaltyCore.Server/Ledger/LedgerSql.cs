using System.Globalization;
using System.Text;

namespace LoyaltyCore.Server.Ledger;

/// <summary>The statements whose text differs between PostgreSQL and SQLite; everything else is shared.</summary>
internal sealed record LedgerSql(
    string Dialect,
    bool BatchInsertWithArrays,
    string InsertEntries,
    string InsertDraws,
    string InsertMember,
    string Member,
    string InsertProgram,
    string ActivateProgram,
    string ActiveProgram,
    string ProgramActivations,
    string ProgramByVersion)
{
    public const string FingerprintAndSequence = """
        SELECT fingerprint AS Fingerprint, COALESCE(member_seq, 0) AS Sequence, COALESCE(change_id, 0) AS ChangeId
        FROM ledger_entries WHERE member_id = @MemberId AND transaction_id = @TransactionId
        """;

    public const string FindTransaction = """
        SELECT member_id AS MemberId, fingerprint AS Fingerprint, response AS Response
        FROM ledger_entries WHERE member_id = @MemberId AND transaction_id = @TransactionId
        """;

    public string Purchase => $"""
        SELECT response AS Response, {(Dialect == "postgres" ? "(extract(epoch FROM occurred_at) * 1000)::bigint" : "occurred_at_ms")} AS OccurredAtMs
        FROM ledger_entries WHERE member_id = @MemberId AND transaction_id = @TransactionId AND kind = 1
        """;

    public const string HoldExists = """
        SELECT 1 FROM ledger_entries WHERE member_id = @MemberId AND transaction_id = @TransactionId AND kind = 9
        """;

    /// <summary>A member's history in the order it was applied, to rebuild their state by replaying it.</summary>
    public string MemberHistory => $"""
        SELECT CAST(kind AS BIGINT) AS Kind, points AS Points, spend_minor AS SpendMinor, changes AS Changes,
            COALESCE(member_seq, 0) AS Sequence, COALESCE(change_id, 0) AS ChangeId
        FROM ledger_entries WHERE member_id = @MemberId
        ORDER BY COALESCE(member_seq, 0), {(Dialect == "postgres" ? "recorded_at" : "recorded_at_ms")}, transaction_id
        """;

    /// <summary>
    /// A page of a member's rows for their history, newest first: by occurred time, then transaction id in ordinal
    /// order, from the row after <c>@AfterOccurredMs</c>/<c>@AfterTransactionId</c> when a cursor is given. The member
    /// prefix of the primary key finds the member's rows; the sort is over those rows alone.
    /// </summary>
    public string TransactionPage(bool byKind, bool from, bool to, bool after)
    {
        var postgres = Dialect == "postgres";
        var occurred = postgres ? "occurred_at" : "occurred_at_ms";
        string Instant(string parameter) => postgres ? $"'epoch'::timestamptz + {parameter} * interval '1 millisecond'" : parameter;
        // Byte order, whatever the database's collation: the order the page tokens are compared in.
        var ordinal = postgres ? " COLLATE \"C\"" : string.Empty;
        var sql = new StringBuilder($"""
            SELECT transaction_id AS TransactionId, CAST(kind AS INTEGER) AS Kind, points AS Points,
                spend_minor AS SpendMinor, store_id AS StoreId, CAST(channel AS INTEGER) AS Channel,
                {(postgres ? "(extract(epoch FROM occurred_at) * 1000)::bigint" : "occurred_at_ms")} AS OccurredAtMs,
                {(postgres ? "(extract(epoch FROM recorded_at) * 1000)::bigint" : "recorded_at_ms")} AS RecordedAtMs,
                program_version AS ProgramVersion, rule_ids AS RuleIds, tier_after AS TierAfter,
                balance_after AS BalanceAfter, response AS Response, refers_to AS RefersTo
            FROM ledger_entries WHERE member_id = @MemberId
            """);
        if (byKind)
        {
            // Dapper passes a list to Npgsql as one array parameter, and expands it into a list for SQLite.
            sql.Append(postgres ? " AND kind = ANY(@Kinds)" : " AND kind IN @Kinds");
        }

        if (from)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {occurred} >= {Instant("@FromMs")}");
        }

        if (to)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {occurred} < {Instant("@ToMs")}");
        }

        if (after)
        {
            var cursor = Instant("@AfterOccurredMs");
            sql.Append(CultureInfo.InvariantCulture, $" AND ({occurred} < {cursor} OR ({occurred} = {cursor} AND transaction_id{ordinal} < @AfterTransactionId{ordinal}))");
        }

        sql.Append(CultureInfo.InvariantCulture, $" ORDER BY {occurred} DESC, transaction_id{ordinal} DESC LIMIT @Limit");
        return sql.ToString();
    }

    /// <summary>
    /// Holds past their expiry that no row ends yet, after a cursor (expiry, member, hold id), soonest first: the
    /// expiry index holds only authorizations (the plain lower bound lets it start the scan at the cursor), and a
    /// hold's ending row is found by the refers-to index.
    /// </summary>
    public const string ExpiredHolds = """
        SELECT h.member_id AS MemberId, h.transaction_id AS HoldId, h.hold_expires_ms AS ExpiresAtMs
        FROM ledger_entries h
        WHERE h.hold_expires_ms IS NOT NULL AND h.hold_expires_ms <= @NowMs AND h.hold_expires_ms >= @AfterMs
            AND (h.hold_expires_ms > @AfterMs OR (h.hold_expires_ms = @AfterMs
                AND (h.member_id > @AfterMember OR (h.member_id = @AfterMember AND h.transaction_id > @AfterHold))))
            AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.member_id = h.member_id AND e.refers_to = h.transaction_id)
        ORDER BY h.hold_expires_ms, h.member_id, h.transaction_id
        LIMIT @Limit
        """;

    public const string MemberIdsAfter = """
        SELECT member_id FROM members WHERE member_id > @After ORDER BY member_id LIMIT @Limit
        """;

    public const string SetBirthday = """
        UPDATE members SET birthday = @Birthday WHERE member_id = @MemberId
        """;

    public const string BirthdayMemberIdsAfter = """
        SELECT member_id FROM members WHERE birthday >= @From AND birthday <= @To AND member_id > @After
        ORDER BY member_id LIMIT @Limit
        """;

    /// <summary>The first day after <c>@After</c>, up to <c>@AsOf</c>, that a row marks (the lot-expiry index's first key).</summary>
    public const string NextLotDay = """
        SELECT MIN(lot_expires_on) FROM ledger_entries WHERE lot_expires_on > @After AND lot_expires_on <= @AsOf
        """;

    /// <summary>
    /// Members with a row marking <c>@Day</c>, after a member id: one key of the lot-expiry index, read in its order,
    /// so each page starts where the last one ended.
    /// </summary>
    public const string LotsDueMemberIds = """
        SELECT DISTINCT member_id FROM ledger_entries WHERE lot_expires_on = @Day AND member_id > @After
        ORDER BY member_id LIMIT @Limit
        """;

    public const string StartExpiryRun = """
        INSERT INTO expiry_runs (as_of, after_day, after_member, finished) VALUES (@AsOf, 0, '', @Finished) ON CONFLICT (as_of) DO NOTHING
        """;

    public const string ExpiryRun = """
        SELECT after_day AS AfterDay, after_member AS AfterMember, finished AS Finished FROM expiry_runs WHERE as_of = @AsOf
        """;

    /// <summary>Several servers may run the same day: the mark only moves forward.</summary>
    public const string AdvanceExpiryRun = """
        UPDATE expiry_runs SET after_day = @Day, after_member = @After
        WHERE as_of = @AsOf AND (after_day < @Day OR (after_day = @Day AND after_member < @After))
        """;

    public const string FinishExpiryRun = """
        UPDATE expiry_runs SET finished = @Finished WHERE as_of = @AsOf
        """;

    public const string LastFinishedExpiryRun = """
        SELECT MAX(as_of) FROM expiry_runs WHERE finished = @Finished AND as_of < @AsOf
        """;

    /// <summary>The points outstanding: every row's points, summed (the balance of all members).</summary>
    public const string CampaignDrawn = """
        SELECT COALESCE(SUM(points), 0) FROM campaign_draws WHERE campaign_id = @CampaignId
        """;

    private const string EntryColumns = """
        transaction_id, member_id, kind, points, spend_minor, store_id, channel, occurred_at, recorded_at,
        program_version, rule_ids, tier_after, balance_after, fingerprint, response, changes, member_seq, refers_to, hold_expires_ms,
        lot_expires_on, change_id
        """;

    /// <summary>One statement per table for the whole batch: columns travel as arrays and are unnested server-side.</summary>
    public static LedgerSql Postgres { get; } = new(
        "postgres",
        BatchInsertWithArrays: true,
        InsertEntries: $"""
            INSERT INTO ledger_entries ({EntryColumns})
            SELECT t.transaction_id, t.member_id, t.kind, t.points, t.spend_minor, t.store_id, t.channel,
                'epoch'::timestamptz + t.occurred_ms * interval '1 millisecond',
                'epoch'::timestamptz + t.recorded_ms * interval '1 millisecond',
                t.program_version, t.rule_ids, t.tier_after, t.balance_after, t.fingerprint, t.response, t.changes, t.member_seq,
                t.refers_to, t.hold_expires_ms, t.lot_expires_on, t.change_id
            FROM unnest(@TransactionIds, @MemberIds, @Kinds, @Points, @Spends, @StoreIds, @Channels, @OccurredMs,
                @RecordedMs, @ProgramVersions, @RuleIds, @TiersAfter, @BalancesAfter, @Fingerprints, @Responses, @Changes, @MemberSequences,
                @RefersTo, @HoldExpiries, @LotExpiries, @ChangeIds)
                AS t(transaction_id, member_id, kind, points, spend_minor, store_id, channel, occurred_ms,
                    recorded_ms, program_version, rule_ids, tier_after, balance_after, fingerprint, response, changes, member_seq,
                    refers_to, hold_expires_ms, lot_expires_on, change_id)
            ON CONFLICT DO NOTHING
            RETURNING member_id AS MemberId, transaction_id AS TransactionId, member_seq AS MemberSequence
            """,
        InsertDraws: """
            INSERT INTO campaign_draws (campaign_id, member_id, transaction_id, points)
            SELECT * FROM unnest(@DrawCampaignIds, @DrawMemberIds, @DrawTransactionIds, @DrawPoints)
            ON CONFLICT DO NOTHING
            """,
        InsertMember: """
            INSERT INTO members (member_id, enrolled_at, referred_by)
            VALUES (@MemberId, 'epoch'::timestamptz + @EnrolledAtMs * interval '1 millisecond', @ReferredBy)
            ON CONFLICT (member_id) DO NOTHING
            """,
        Member: """
            SELECT (extract(epoch FROM enrolled_at) * 1000)::bigint AS EnrolledAtMs, referred_by AS ReferredBy
            FROM members WHERE member_id = @MemberId
            """,
        InsertProgram: """
            INSERT INTO programs (version, program_id, document, published_at)
            VALUES (@Version, @ProgramId, @Document, now())
            ON CONFLICT (version) DO NOTHING
            """,
        ActivateProgram: """
            INSERT INTO program_activations (version, activated_at) VALUES (@Version, now())
            """,
        // Activation times are cut to the millisecond downwards, the same in both queries, so a refresh can compare
        // the latest activation with the one the timeline was loaded with.
        ActiveProgram: """
            SELECT p.version AS Version, p.document AS Document, floor(extract(epoch FROM a.activated_at) * 1000)::bigint AS ActivatedAtMs
            FROM program_activations a JOIN programs p ON p.version = a.version
            ORDER BY a.id DESC LIMIT 1
            """,
        ProgramActivations: """
            SELECT a.id AS Id, p.version AS Version, p.document AS Document, floor(extract(epoch FROM a.activated_at) * 1000)::bigint AS ActivatedAtMs
            FROM program_activations a JOIN programs p ON p.version = a.version
            WHERE a.id >= COALESCE((SELECT max(b.id) FROM program_activations b
                WHERE b.activated_at <= 'epoch'::timestamptz + @SinceMs * interval '1 millisecond'), 0)
            ORDER BY a.id
            """,
        ProgramByVersion: """
            SELECT version AS Version, document AS Document, (extract(epoch FROM published_at) * 1000)::bigint AS ActivatedAtMs
            FROM programs WHERE version = @Version
            """);

    /// <summary>SQLite is in-process: one prepared insert per row inside the batch's transaction costs no round trips.</summary>
    public static LedgerSql Sqlite { get; } = new(
        "sqlite",
        BatchInsertWithArrays: false,
        InsertEntries: """
            INSERT INTO ledger_entries (transaction_id, member_id, kind, points, spend_minor, store_id, channel,
                occurred_at_ms, recorded_at_ms, program_version, rule_ids, tier_after, balance_after, fingerprint, response, changes, member_seq,
                refers_to, hold_expires_ms, lot_expires_on, change_id)
            VALUES (@TransactionId, @MemberId, @Kind, @Points, @SpendMinor, @StoreId, @Channel, @OccurredAtMs,
                @RecordedAtMs, @ProgramVersion, @RuleIds, @TierAfter, @BalanceAfter, @Fingerprint, @Response, @Changes, @MemberSequence,
                @RefersTo, @HoldExpiresMs, @LotExpiresOn, @ChangeId)
            ON CONFLICT DO NOTHING
            """,
        InsertDraws: """
            INSERT INTO campaign_draws (campaign_id, member_id, transaction_id, points)
            VALUES (@CampaignId, @MemberId, @TransactionId, @Points)
            ON CONFLICT DO NOTHING
            """,
        InsertMember: """
            INSERT INTO members (member_id, enrolled_at_ms, referred_by) VALUES (@MemberId, @EnrolledAtMs, @ReferredBy)
            ON CONFLICT (member_id) DO NOTHING
            """,
        Member: """
            SELECT enrolled_at_ms AS EnrolledAtMs, referred_by AS ReferredBy FROM members WHERE member_id = @MemberId
            """,
        InsertProgram: """
            INSERT INTO programs (version, program_id, document, published_at_ms)
            VALUES (@Version, @ProgramId, @Document, CAST(strftime('%s', 'now') AS INTEGER) * 1000)
            ON CONFLICT (version) DO NOTHING
            """,
        // To the millisecond (julianday('now') carries them; strftime('%s') would cut to the second): purchases
        // dated back are scored by the version active at their instant.
        ActivateProgram: """
            INSERT INTO program_activations (version, activated_at_ms)
            VALUES (@Version, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
            """,
        ActiveProgram: """
            SELECT p.version AS Version, p.document AS Document, a.activated_at_ms AS ActivatedAtMs
            FROM program_activations a JOIN programs p ON p.version = a.version
            ORDER BY a.id DESC LIMIT 1
            """,
        ProgramActivations: """
            SELECT a.id AS Id, p.version AS Version, p.document AS Document, a.activated_at_ms AS ActivatedAtMs
            FROM program_activations a JOIN programs p ON p.version = a.version
            WHERE a.id >= COALESCE((SELECT max(b.id) FROM program_activations b WHERE b.activated_at_ms <= @SinceMs), 0)
            ORDER BY a.id
            """,
        ProgramByVersion: """
            SELECT version AS Version, document AS Document, published_at_ms AS ActivatedAtMs FROM programs WHERE version = @Version
            """);
}
