using System.Buffers;
using System.Security.Cryptography;
using Google.Protobuf;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Scoring;

/// <summary>The changes one transaction makes to a member, prepared against a snapshot of their state.</summary>
internal sealed record PreparedTransaction<TResponse>(
    TResponse Response,
    long PointsDelta,
    long SpendDelta,
    string TierAfter,
    byte[] Record,
    LedgerEntry Entry,
    byte[] EntryBytes,
    MemberSnapshot After);

/// <summary>
/// One Score or Redeem call, as the transaction processor drives it: how to evaluate it against a member's state,
/// and how to recognise and answer its retries.
/// </summary>
internal abstract class TransactionIntent<TResponse>
    where TResponse : class, IMessage<TResponse>
{
    private const int FingerprintLength = 32;

    protected TransactionIntent(string transactionId, string memberId, long occurredAtMs, LoyaltyProgram program, byte kind, IMessage request)
    {
        TransactionId = transactionId;
        MemberId = memberId;
        OccurredAtMs = occurredAtMs;
        Program = program;
        Fingerprint = ComputeFingerprint(kind, request);
    }

    public string TransactionId { get; }

    public string MemberId { get; }

    public long OccurredAtMs { get; }

    public LoyaltyProgram Program { get; }

    /// <summary>SHA-256 of the call's kind and content: a retry has the same, a reuse of the id does not.</summary>
    public byte[] Fingerprint { get; }

    public virtual bool EnrollsUnknownMember => false;

    public abstract MessageParser<TResponse> Parser { get; }

    public abstract PreparedTransaction<TResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs);

    public abstract void MarkReplayed(TResponse response);

    /// <summary>Records an applied (not replayed) transaction in the program's KPIs.</summary>
    public abstract void Observe(PreparedTransaction<TResponse> prepared);

    public bool IsSameRequest(ReadOnlySpan<byte> fingerprint) => fingerprint.SequenceEqual(Fingerprint);

    /// <summary>The stored form of an answer: the request's fingerprint, then the serialized response.</summary>
    public static (byte[] Record, ByteString Response) BuildRecord(byte[] fingerprint, TResponse response)
    {
        var size = response.CalculateSize();
        var record = new byte[FingerprintLength + size];
        fingerprint.CopyTo(record, 0);
        response.WriteTo(record.AsSpan(FingerprintLength));
        return (record, UnsafeByteOperations.UnsafeWrap(record.AsMemory(FingerprintLength)));
    }

    public static ReadOnlySpan<byte> FingerprintOf(byte[] record) => record.AsSpan(0, FingerprintLength);

    public static ReadOnlySpan<byte> ResponseOf(byte[] record) => record.AsSpan(FingerprintLength);

    protected PreparedTransaction<TResponse> Complete(TResponse response, LedgerEntry entry, long pointsDelta, long spendDelta, MemberSnapshot after)
    {
        var (record, responseBytes) = BuildRecord(Fingerprint, response);
        entry.Fingerprint = UnsafeByteOperations.UnsafeWrap(Fingerprint);
        entry.Response = responseBytes;
        return new PreparedTransaction<TResponse>(response, pointsDelta, spendDelta, after.Tier, record, entry, entry.ToByteArray(), after);
    }

    private static byte[] ComputeFingerprint(byte kind, IMessage request)
    {
        var size = request.CalculateSize() + 1;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            buffer[0] = kind;
            request.WriteTo(buffer.AsSpan(1, size - 1));
            return SHA256.HashData(buffer.AsSpan(0, size));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
