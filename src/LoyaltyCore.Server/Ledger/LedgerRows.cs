using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Ledger;

/// <summary>A ledger row as SQLite's per-row insert binds it.</summary>
internal sealed record LedgerRow(
    string TransactionId,
    string MemberId,
    int Kind,
    long Points,
    long SpendMinor,
    string StoreId,
    int Channel,
    long OccurredAtMs,
    long RecordedAtMs,
    string ProgramVersion,
    string RuleIds,
    string TierAfter,
    long BalanceAfter,
    byte[] Fingerprint,
    byte[] Response)
{
    public static LedgerRow From(LedgerEntry e) => new(
        e.TransactionId, e.MemberId, (int)e.Kind, e.Points, e.SpendMinor, e.StoreId, e.Channel, e.OccurredAtUnixMs,
        e.RecordedAtUnixMs, e.ProgramVersion, e.RuleIds, e.TierAfter, e.BalanceAfter, e.Fingerprint.ToByteArray(), e.Response.ToByteArray());
}

/// <summary>A batch as PostgreSQL's single <c>unnest</c> insert binds it: one array parameter per column.</summary>
internal sealed class LedgerColumns
{
    private LedgerColumns(int count)
    {
        TransactionIds = new string[count];
        MemberIds = new string[count];
        Kinds = new short[count];
        Points = new long[count];
        Spends = new long[count];
        StoreIds = new string[count];
        Channels = new short[count];
        OccurredMs = new long[count];
        RecordedMs = new long[count];
        ProgramVersions = new string[count];
        RuleIds = new string[count];
        TiersAfter = new string[count];
        BalancesAfter = new long[count];
        Fingerprints = new byte[count][];
        Responses = new byte[count][];
    }

    public string[] TransactionIds { get; }

    public string[] MemberIds { get; }

    public short[] Kinds { get; }

    public long[] Points { get; }

    public long[] Spends { get; }

    public string[] StoreIds { get; }

    public short[] Channels { get; }

    public long[] OccurredMs { get; }

    public long[] RecordedMs { get; }

    public string[] ProgramVersions { get; }

    public string[] RuleIds { get; }

    public string[] TiersAfter { get; }

    public long[] BalancesAfter { get; }

    public byte[][] Fingerprints { get; }

    public byte[][] Responses { get; }

    public static LedgerColumns From(List<LedgerEntry> entries)
    {
        var columns = new LedgerColumns(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            columns.TransactionIds[i] = e.TransactionId;
            columns.MemberIds[i] = e.MemberId;
            columns.Kinds[i] = (short)e.Kind;
            columns.Points[i] = e.Points;
            columns.Spends[i] = e.SpendMinor;
            columns.StoreIds[i] = e.StoreId;
            columns.Channels[i] = (short)e.Channel;
            columns.OccurredMs[i] = e.OccurredAtUnixMs;
            columns.RecordedMs[i] = e.RecordedAtUnixMs;
            columns.ProgramVersions[i] = e.ProgramVersion;
            columns.RuleIds[i] = e.RuleIds;
            columns.TiersAfter[i] = e.TierAfter;
            columns.BalancesAfter[i] = e.BalanceAfter;
            columns.Fingerprints[i] = e.Fingerprint.ToByteArray();
            columns.Responses[i] = e.Response.ToByteArray();
        }

        return columns;
    }
}
