using System.Buffers;
using System.Security.Cryptography;
using Google.Protobuf;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions;

/// <summary>The changes one transaction makes to a member, prepared against a snapshot of their state.</summary>
/// <param name="RequiredAvailable">
/// The points that must be available (the balance less the points held) for Redis to apply it: 0 for none, -1 for a
/// change that is refused unless it is a retry (see <see cref="TransactionIntent{TResponse}.Refuse"/>).
/// </param>
/// <param name="BudgetReturns">Points given back to campaign budgets once the change is committed (a return).</param>
internal sealed record PreparedTransaction<TResponse>(
    TResponse Response,
    long BalanceDelta,
    IReadOnlyList<KeyValuePair<string, long>> Increments,
    IReadOnlyList<KeyValuePair<string, string>> Sets,
    IReadOnlyList<string> Deletes,
    IReadOnlyList<CampaignAward> BudgetDraws,
    byte[] Record,
    LedgerEntry Entry,
    byte[] EntryBytes,
    long RequiredAvailable,
    IReadOnlyList<CampaignAward>? BudgetReturns = null);

/// <param name="Review">The review due, if any (its day key).</param>
/// <param name="Reset">The points that review resets.</param>
internal readonly record struct DebitStart(DateTime Local, LoyaltyCore.Engine.Tiers.Tier Current, int? Review, long Reset);

/// <summary>
/// One call that changes a member (score, redeem, membership, profile, referral reward), as the transaction processor
/// drives it: how to evaluate it against the member's state, and how to recognise and answer its retries.
/// </summary>
internal abstract class TransactionIntent<TResponse>
    where TResponse : class, IMessage<TResponse>
{
    private const int FingerprintLength = 32;
    private static readonly IReadOnlyList<KeyValuePair<string, long>> NoIncrements = [];
    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoSets = [];

    // The number the entry being prepared takes: one more than the change its snapshot records.
    private long _sequence;
    private long _changeId;
    private long _previousChangeId;

    // The state the entry being prepared changes: its lots follow the balance (see Complete).
    private MemberState _state = new();

    /// <param name="program">The version that evaluates the transaction.</param>
    /// <param name="activeProgram">The version active when the call came in, if not <paramref name="program"/>.</param>
    protected TransactionIntent(string transactionId, string memberId, long occurredAtMs, LoyaltyProgram program, EntryKind kind, IMessage request, LoyaltyProgram? activeProgram = null)
    {
        TransactionId = transactionId;
        MemberId = memberId;
        OccurredAtMs = occurredAtMs;
        Program = program;
        ActiveProgram = activeProgram ?? program;
        Kind = kind;
        Fingerprint = ComputeFingerprint((byte)kind, request);
    }

    public string TransactionId { get; }

    public string MemberId { get; }

    public long OccurredAtMs { get; }

    /// <summary>The version that evaluates the transaction, and that its answer and ledger row name.</summary>
    public LoyaltyProgram Program { get; }

    /// <summary>
    /// The version active when the call came in. It is <see cref="Program"/> but for a purchase dated back, which is
    /// evaluated by the version active when it happened: what the call does now besides that evaluation (loading the
    /// member, enrolling an unknown one and their enrolment bonus, the referrer's reward, a repair after a reused id)
    /// follows the active version.
    /// </summary>
    public LoyaltyProgram ActiveProgram { get; }

    public EntryKind Kind { get; }

    /// <summary>SHA-256 of the call's kind and content: a retry has the same, a reuse of the id does not.</summary>
    public byte[] Fingerprint { get; }

    public virtual bool EnrollsUnknownMember => false;

    /// <summary>
    /// The request carries no time of its own, so its occurred time is the server's clock at each attempt, and a retry
    /// long after the first attempt would look new to the hot state: its first check for an earlier attempt goes to
    /// the ledger whenever Redis holds no record of one.
    /// </summary>
    public virtual bool OccurredOnServerClock => false;

    public abstract MessageParser<TResponse> Parser { get; }

    /// <summary>Evaluates the transaction against the member's state; its ledger entry is the member's next change.</summary>
    /// <param name="budgetLimits">Points each budgeted campaign may still award; null before any budget was drawn.</param>
    public PreparedTransaction<TResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        _sequence = snapshot.Sequence + 1;
        // Drawn anew by every attempt: a change decided again on another state is another change.
        _changeId = Random.Shared.NextInt64(1, long.MaxValue);
        _previousChangeId = snapshot.ChangeId;
        _state = snapshot.State;
        return PrepareChange(snapshot, recordedAtMs, budgetLimits);
    }

    /// <inheritdoc cref="Prepare"/>
    protected abstract PreparedTransaction<TResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits);

    public abstract void MarkReplayed(TResponse response);

    /// <summary>The error for a transaction the balance could not cover (the script's final word on overdraft).</summary>
    /// <param name="held">The points the member's open holds reserve at that balance.</param>
    public virtual Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<TResponse>? prepared) =>
        RpcErrors.InsufficientPoints(balance, held, prepared?.RequiredAvailable ?? 0);

    /// <summary>The total of a shared budget the transaction draws from (see <see cref="CampaignBudgets"/>); null for none.</summary>
    public virtual long? BudgetTotal(string budgetId) => Program.BudgetTotal(budgetId);

    /// <summary>A purchase: under a policy whose activity extends lots, it pushes the member's extending lots out.</summary>
    protected virtual bool IsActivity => false;

    /// <summary>The day (yyyymmdd) whose lots a debit takes from first: a return's purchase day; 0 for none.</summary>
    protected virtual int PreferredLotDay => 0;

    /// <summary>
    /// Sets what the answer says about the member after the change (their next expiry, a nudge), before it is stored.
    /// </summary>
    /// <param name="before">The state the change was prepared on.</param>
    /// <param name="recordedAtMs">The server's clock at this attempt.</param>
    protected virtual void Describe(TResponse response, MemberState before, LotChanges lots, long recordedAtMs)
    {
    }

    /// <summary>Records an applied (not replayed) transaction in the program's KPIs.</summary>
    public virtual void Observe(PreparedTransaction<TResponse> prepared)
    {
    }

    public bool IsSameRequest(ReadOnlySpan<byte> fingerprint) => fingerprint.SequenceEqual(Fingerprint);

    public static ReadOnlySpan<byte> FingerprintOf(byte[] record) => record.AsSpan(0, FingerprintLength);

    public static ReadOnlySpan<byte> ResponseOf(byte[] record) => record.AsSpan(FingerprintLength);

    /// <summary>
    /// Where a debit (a redemption, a hold, a capture, an adjustment) starts: the program's local time on the server's
    /// clock, not the till's, so a debit dated back cannot dodge a review that is due; the tier held then; and the
    /// review due, with the points it resets, which the debit applies first so they can never be spent.
    /// </summary>
    protected DebitStart StartDebit(MemberState state, long recordedAtMs)
    {
        var local = Program.Calendar.LocalTime(DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(OccurredAtMs, recordedAtMs)));
        var (current, review) = Program.TierPolicy.Current(state, local);
        return new DebitStart(local, current, review, Program.TierPolicy.PointsResetBy(state, review));
    }

    /// <summary>A ledger entry with the fields every kind of transaction shares.</summary>
    protected LedgerEntry NewEntry(long points, long recordedAtMs, string tierAfter, long balanceAfter) => new()
    {
        TransactionId = TransactionId,
        MemberId = MemberId,
        Kind = Kind,
        Points = points,
        OccurredAtUnixMs = OccurredAtMs,
        RecordedAtUnixMs = recordedAtMs,
        ProgramVersion = Program.Version,
        RuleIds = string.Empty,
        TierAfter = tierAfter,
        BalanceAfter = balanceAfter,
        MemberSequence = _sequence,
        ChangeId = _changeId,
        PreviousChangeId = _previousChangeId,
    };

    /// <summary>Builds the stored answer (fingerprint then response) and the ledger entry that carries it.</summary>
    protected PreparedTransaction<TResponse> Complete(
        TResponse response,
        LedgerEntry entry,
        long balanceDelta,
        IReadOnlyList<KeyValuePair<string, long>>? increments = null,
        IReadOnlyList<KeyValuePair<string, string>>? sets = null,
        IReadOnlyList<string>? deletes = null,
        IReadOnlyList<CampaignAward>? draws = null,
        long? requiredAvailable = null,
        IReadOnlyList<CampaignAward>? budgetReturns = null,
        LotChanges? lots = null,
        long reset = 0,
        string? funder = null)
    {
        // Every change of the balance moves the member's lots with it, in the same apply and the same ledger row; a
        // review's reset in it is spent from the lots the member had before anything is earned.
        lots ??= PointLots.Change(_state, balanceDelta, Program.Calendar.LocalDay(DateTimeOffset.FromUnixTimeMilliseconds(OccurredAtMs)),
            Program.Expiry, IsActivity, PreferredLotDay, reset, funder);
        if (!lots.IsEmpty)
        {
            increments = increments is null or { Count: 0 } ? lots.Increments : [.. increments, .. lots.Increments];
            sets = sets is null or { Count: 0 } ? lots.Sets : [.. sets, .. lots.Sets];
            deletes = deletes is null or { Count: 0 } ? lots.Deletes : [.. deletes, .. lots.Deletes];
            var changes = entry.Changes ??= new StateChanges();
            foreach (var (key, delta) in lots.Increments)
            {
                changes.Increments[key] = changes.Increments.GetValueOrDefault(key) + delta;
            }

            foreach (var (key, value) in lots.Sets)
            {
                changes.Sets[key] = value;
            }

            changes.Deletes.AddRange(lots.Deletes);

            // Points a partner funded that leave the balance unspent (expired, or taken back by a return) are credited
            // back to the partner's account, in the same row.
            if (Kind is EntryKind.Expiry or EntryKind.Return)
            {
                foreach (var (partner, points) in PointLots.FundedPointsRemoved(_state, lots))
                {
                    entry.CampaignDraws.Add(new CampaignDraw { CampaignId = PartnerAccounts.Funded(partner), Points = -points });
                }
            }
        }

        // A lot already due when recorded (a purchase uploaded late under a short lifetime) is marked for the runs
        // from the day it is recorded: the finished runs of the days it is due on never look at it again.
        entry.LotExpiresOn = lots.LotExpiresOn == 0
            ? 0
            : Math.Max(lots.LotExpiresOn, ExpiryPolicy.DayKey(Program.Calendar.LocalDay(DateTimeOffset.FromUnixTimeMilliseconds(entry.RecordedAtUnixMs))));
        Describe(response, _state, lots, entry.RecordedAtUnixMs);
        var size = response.CalculateSize();
        var record = new byte[FingerprintLength + size];
        Fingerprint.CopyTo(record, 0);
        response.WriteTo(record.AsSpan(FingerprintLength));
        entry.Fingerprint = UnsafeByteOperations.UnsafeWrap(Fingerprint);
        entry.Response = UnsafeByteOperations.UnsafeWrap(record.AsMemory(FingerprintLength));
        return new PreparedTransaction<TResponse>(
            response, balanceDelta, increments ?? NoIncrements, sets ?? NoSets, deletes ?? [], draws ?? [], record, entry, entry.ToByteArray(),
            requiredAvailable ?? Math.Max(0, -balanceDelta), budgetReturns);
    }

    /// <summary>
    /// A change found impossible on the snapshot (a capture of a hold that is not open...): Redis refuses it unless
    /// the transaction was already applied (a retry then gets its original answer), or the state moved, in which case
    /// it is evaluated again. <see cref="Insufficient"/> then gives the error.
    /// </summary>
    protected PreparedTransaction<TResponse> Refuse(TResponse response, long recordedAtMs, string tier, long balance)
    {
        var entry = NewEntry(0, recordedAtMs, tier, balance);
        return Complete(response, entry, 0, requiredAvailable: -1);
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
