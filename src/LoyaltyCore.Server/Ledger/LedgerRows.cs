using Google.Protobuf;
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
    byte[] Response,
    byte[]? Changes,
    long MemberSequence,
    string? RefersTo,
    long? HoldExpiresMs,
    int? LotExpiresOn,
    long? ChangeId)
{
    public static LedgerRow From(LedgerEntry e) => new(
        e.TransactionId, e.MemberId, (int)e.Kind, e.Points, e.SpendMinor, e.StoreId, e.Channel, e.OccurredAtUnixMs,
        e.RecordedAtUnixMs, e.ProgramVersion, e.RuleIds, e.TierAfter, e.BalanceAfter, e.Fingerprint.ToByteArray(), e.Response.ToByteArray(),
        LedgerColumns.ChangesOf(e), e.MemberSequence, LedgerColumns.RefersToOf(e), LedgerColumns.HoldExpiryOf(e), LedgerColumns.LotExpiryOf(e), LedgerColumns.ChangeIdOf(e));
}

internal sealed record DrawRow(string CampaignId, string MemberId, string TransactionId, long Points)
{
    public static IEnumerable<DrawRow> From(IEnumerable<LedgerEntry> entries) =>
        entries.SelectMany(e => e.CampaignDraws.Select(d => new DrawRow(d.CampaignId, e.MemberId, e.TransactionId, d.Points)));
}

/// <summary>A batch as PostgreSQL's <c>unnest</c> inserts bind it: one array parameter per column.</summary>
internal sealed class LedgerColumns
{
    private LedgerColumns(int count, int draws)
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
        MemberSequences = new long[count];
        RefersTo = new string?[count];
        HoldExpiries = new long?[count];
        LotExpiries = new int?[count];
        ChangeIds = new long?[count];
        ProgramVersions = new string[count];
        RuleIds = new string[count];
        TiersAfter = new string[count];
        BalancesAfter = new long[count];
        Fingerprints = new byte[count][];
        Responses = new byte[count][];
        Changes = new byte[]?[count];
        DrawCampaignIds = new string[draws];
        DrawMemberIds = new string[draws];
        DrawTransactionIds = new string[draws];
        DrawPoints = new long[draws];
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

    public long[] MemberSequences { get; }

    public string?[] RefersTo { get; }

    public long?[] HoldExpiries { get; }

    public int?[] LotExpiries { get; }

    public long?[] ChangeIds { get; }

    public string[] ProgramVersions { get; }

    public string[] RuleIds { get; }

    public string[] TiersAfter { get; }

    public long[] BalancesAfter { get; }

    public byte[][] Fingerprints { get; }

    public byte[][] Responses { get; }

    public byte[]?[] Changes { get; }

    public string[] DrawCampaignIds { get; }

    public string[] DrawMemberIds { get; }

    public string[] DrawTransactionIds { get; }

    public long[] DrawPoints { get; }

    public bool HasDraws => DrawPoints.Length > 0;

    public static byte[]? ChangesOf(LedgerEntry entry) =>
        entry.Changes is { } changes && (changes.Increments.Count > 0 || changes.Sets.Count > 0 || changes.Deletes.Count > 0) ? changes.ToByteArray() : null;

    public static string? RefersToOf(LedgerEntry entry) => entry.RefersTo.Length > 0 ? entry.RefersTo : null;

    public static long? HoldExpiryOf(LedgerEntry entry) => entry.HoldExpiresAtUnixMs != 0 ? entry.HoldExpiresAtUnixMs : null;

    public static int? LotExpiryOf(LedgerEntry entry) => entry.LotExpiresOn != 0 ? entry.LotExpiresOn : null;

    public static long? ChangeIdOf(LedgerEntry entry) => entry.ChangeId != 0 ? entry.ChangeId : null;

    public static LedgerColumns From(List<LedgerEntry> entries)
    {
        var draws = 0;
        foreach (var entry in entries)
        {
            draws += entry.CampaignDraws.Count;
        }

        var columns = new LedgerColumns(entries.Count, draws);
        var d = 0;
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
            columns.MemberSequences[i] = e.MemberSequence;
            columns.RefersTo[i] = RefersToOf(e);
            columns.HoldExpiries[i] = HoldExpiryOf(e);
            columns.LotExpiries[i] = LotExpiryOf(e);
            columns.ChangeIds[i] = ChangeIdOf(e);
            columns.ProgramVersions[i] = e.ProgramVersion;
            columns.RuleIds[i] = e.RuleIds;
            columns.TiersAfter[i] = e.TierAfter;
            columns.BalancesAfter[i] = e.BalanceAfter;
            columns.Fingerprints[i] = e.Fingerprint.ToByteArray();
            columns.Responses[i] = e.Response.ToByteArray();
            columns.Changes[i] = ChangesOf(e);
            foreach (var draw in e.CampaignDraws)
            {
                columns.DrawCampaignIds[d] = draw.CampaignId;
                columns.DrawMemberIds[d] = e.MemberId;
                columns.DrawTransactionIds[d] = e.TransactionId;
                columns.DrawPoints[d] = draw.Points;
                d++;
            }
        }

        return columns;
    }
}
