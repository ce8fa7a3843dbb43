using System.Buffers;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Transactions;
using FieldViolation = Google.Rpc.BadRequest.Types.FieldViolation;

namespace LoyaltyCore.Server.Scoring;

/// <summary>
/// Checks a request completely before anything is touched, and reports every bad field at once as
/// <c>google.rpc.BadRequest</c> field violations.
/// </summary>
internal static class RequestValidation
{
    public const int MaxIdLength = 64;

    // The range google.protobuf.Timestamp defines: 0001-01-01 to 9999-12-31.
    private const long MinTimestampSeconds = -62_135_596_800;
    private const long MaxTimestampSeconds = 253_402_300_799;

    // Ids become Redis key parts inside a {hash tag}: braces or spaces would break the tag.
    private static readonly SearchValues<char> IdCharacters =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-");

    public static Basket Validate(ScoreRequest request, LoyaltyProgram program, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        CheckId(request.StoreId, "store_id", ref violations);
        CheckChannel(request.Channel, ref violations);
        CheckOccurredAt(request.OccurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (request.Currency != program.Currency)
        {
            Add(ref violations, "currency", $"must be the program's currency, {program.Currency}");
        }

        var count = request.Lines.Count;
        if (count == 0)
        {
            Add(ref violations, "lines", "at least one line is required");
        }
        else if (count > limits.MaxLines)
        {
            Add(ref violations, "lines", $"at most {limits.MaxLines} lines per transaction");
        }

        var lines = new BasketLine[Math.Min(count, limits.MaxLines)];
        for (var i = 0; i < lines.Length; i++)
        {
            var line = request.Lines[i];
            if (!IsId(line.Sku))
            {
                Add(ref violations, $"lines[{i}].sku", "required, 1-64 characters");
            }

            if (line.Category.Length > MaxIdLength)
            {
                Add(ref violations, $"lines[{i}].category", "at most 64 characters");
            }

            if (line.Brand.Length > MaxIdLength)
            {
                Add(ref violations, $"lines[{i}].brand", "at most 64 characters");
            }

            if (line.Quantity <= 0)
            {
                Add(ref violations, $"lines[{i}].quantity", "must be greater than zero");
            }

            if (line.UnitPriceMinor < 0)
            {
                Add(ref violations, $"lines[{i}].unit_price_minor", "must not be negative");
            }

            lines[i] = new BasketLine(line.Sku, line.Category, line.Brand, line.Quantity, line.UnitPriceMinor, Labels(line, i, limits, ref violations));
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }

        if (!Basket.TryCreate(lines, (Engine.Scoring.Channel)request.Channel, request.StoreId, request.OccurredAt.ToDateTimeOffset(), out var basket, out var overflowing))
        {
            throw RpcErrors.InvalidArgument($"lines[{overflowing}].unit_price_minor", "the basket total overflows a 64-bit amount");
        }

        if (basket!.TotalMinor > limits.MaxBasketTotalMinor)
        {
            throw RpcErrors.InvalidArgument("lines", $"the basket total exceeds the limit of {limits.MaxBasketTotalMinor} minor units");
        }

        return basket;
    }

    private static LineLabel[]? Labels(Line line, int index, ScoringOptions limits, ref List<FieldViolation>? violations)
    {
        var count = line.Labels.Count;
        if (count == 0)
        {
            return null;
        }

        if (count > limits.MaxLabelsPerLine)
        {
            Add(ref violations, $"lines[{index}].labels", $"at most {limits.MaxLabelsPerLine} labels per line");
            return null;
        }

        CheckKeyValues(line.Labels, $"lines[{index}].labels", "label", limits.MaxLabelLength, ref violations);
        var labels = new LineLabel[count];
        var i = 0;
        foreach (var (key, value) in line.Labels)
        {
            labels[i++] = new LineLabel(key, value);
        }

        return labels;
    }

    /// <summary>Keys are ids; values are 1 to <paramref name="maxLength"/> characters without control characters.</summary>
    private static void CheckKeyValues(IDictionary<string, string> map, string field, string noun, int maxLength, ref List<FieldViolation>? violations)
    {
        foreach (var (key, value) in map)
        {
            if (!IsId(key))
            {
                Add(ref violations, field, $"{noun} key '{Printable(key)}': 1-64 characters of [A-Za-z0-9._:-]");
            }
            else if (value.Length == 0 || value.Length > maxLength || HasControlCharacters(value))
            {
                Add(ref violations, $"{field}[{key}]", $"1-{maxLength} characters, no control characters");
            }
        }
    }

    private static bool HasControlCharacters(string value) =>
        value.AsSpan().ContainsAnyInRange('\0', '\u001f') || value.AsSpan().ContainsAnyInRange('\u007f', '\u009f');

    // A bad key is echoed in the violation; cut and stripped of control characters so the message stays readable.
    private static string Printable(string text)
    {
        var cut = text.Length > MaxIdLength ? text[..MaxIdLength] + "…" : text;
        return string.Create(cut.Length, cut, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    public static void Validate(RedeemRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckSpend(request.TransactionId, request.MemberId, request.StoreId, request.Channel, request.OccurredAt, limits, now, clockSkew, ref violations);
        CheckPoints(request.Points, limits, ref violations);

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public static void Validate(RedeemRewardRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckSpend(request.TransactionId, request.MemberId, request.StoreId, request.Channel, request.OccurredAt, limits, now, clockSkew, ref violations);
        CheckId(request.RewardId, "reward_id", ref violations);

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public static void Validate(ActivateOfferRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        CheckId(request.PartnerId, "partner_id", ref violations);
        CheckId(request.OfferId, "offer_id", ref violations);
        CheckOccurredAt(request.OccurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    /// <summary>A partner's conversion or award: its own id (1-40 characters, so the transaction id it makes fits), the member, when.</summary>
    public static void ValidatePartnerAward(string idField, string id, string memberId, Timestamp? occurredAt, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew, params (string Field, string? Problem)[] more)
    {
        List<FieldViolation>? violations = null;
        if (id.Length > MaxPartnerAwardIdLength || !IsId(id))
        {
            Add(ref violations, idField, $"required, 1-{MaxPartnerAwardIdLength} characters of letters, digits, '.', '_', ':' or '-'");
        }

        CheckId(memberId, "member_id", ref violations);
        foreach (var (field, problem) in more)
        {
            if (problem is not null)
            {
                Add(ref violations, field, problem);
            }
        }

        CheckOccurredAt(occurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public const int MaxPartnerAwardIdLength = 40;

    /// <returns>How long the hold lasts.</returns>
    public static TimeSpan Validate(AuthorizeRequest request, ScoringOptions limits, HoldOptions holds, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckSpend(request.TransactionId, request.MemberId, request.StoreId, request.Channel, request.OccurredAt, limits, now, clockSkew, ref violations);
        CheckPoints(request.Points, limits, ref violations);

        var maxSeconds = (long)holds.MaxLifetime.TotalSeconds;
        if (request.LifetimeSeconds < 0 || request.LifetimeSeconds > maxSeconds)
        {
            Add(ref violations, "lifetime_seconds", $"must be between 0 (the default, {(long)holds.DefaultLifetime.TotalSeconds} s) and {maxSeconds}");
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }

        return request.LifetimeSeconds == 0 ? holds.DefaultLifetime : TimeSpan.FromSeconds(request.LifetimeSeconds);
    }

    public static void Validate(CaptureRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckSpend(request.TransactionId, request.MemberId, request.StoreId, request.Channel, request.OccurredAt, limits, now, clockSkew, ref violations, ("hold_id", request.HoldId));
        CheckPoints(request.Points, limits, ref violations);

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public static void Validate(ReturnRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckSpend(request.TransactionId, request.MemberId, request.StoreId, request.Channel, request.OccurredAt, limits, now, clockSkew, ref violations,
            ("purchase_transaction_id", request.PurchaseTransactionId));
        if (request.Lines.Count > limits.MaxLines)
        {
            Add(ref violations, "lines", $"at most {limits.MaxLines}");
        }
        else
        {
            var seen = new HashSet<int>();
            for (var i = 0; i < request.Lines.Count; i++)
            {
                var line = request.Lines[i];
                if (line.LineIndex < 0)
                {
                    Add(ref violations, $"lines[{i}].line_index", "must be 0 or more");
                }
                else if (!seen.Add(line.LineIndex))
                {
                    Add(ref violations, $"lines[{i}].line_index", $"line {line.LineIndex} is named twice");
                }

                if (line.Quantity <= 0)
                {
                    Add(ref violations, $"lines[{i}].quantity", "must be 1 or more");
                }
            }
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    /// <summary>The lines a return names must be lines of the purchase.</summary>
    public static void ValidateAgainst(ReturnRequest request, ScoreResponse purchase)
    {
        List<FieldViolation>? violations = null;
        for (var i = 0; i < request.Lines.Count; i++)
        {
            if (request.Lines[i].LineIndex >= purchase.Lines.Count)
            {
                Add(ref violations, $"lines[{i}].line_index", $"purchase '{request.PurchaseTransactionId}' has {purchase.Lines.Count} lines (0 to {purchase.Lines.Count - 1})");
            }
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public static void Validate(VoidRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        CheckId(request.HoldId, "hold_id", ref violations);
        CheckOccurredAt(request.OccurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public const int MaxEventAttributes = 10;
    public const int MaxEventAttributeLength = 256;

    public static void Validate(RecordEventRequest request, LoyaltyProgram program, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        CheckOccurredAt(request.OccurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (EventNames.BuiltIn.Contains(request.Event))
        {
            Add(ref violations, "event", $"'{request.Event}' is fired by the server itself and cannot be recorded");
        }
        else if (!program.IsRecordableEvent(request.Event))
        {
            var known = EventNames.Standard.Concat(program.DeclaredEvents).Order(StringComparer.Ordinal);
            Add(ref violations, "event", $"'{Printable(request.Event)}' is not an event of the program; one of {string.Join(", ", known)}");
        }

        if (request.Attributes.Count > MaxEventAttributes)
        {
            Add(ref violations, "attributes", $"at most {MaxEventAttributes} attributes");
        }
        else
        {
            CheckKeyValues(request.Attributes, "attributes", "attribute", MaxEventAttributeLength, ref violations);
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public const int MaxReasonLength = 256;

    /// <returns>The floor (null to remove the member's floor) and its last local day as yyyymmdd (0 without a floor).</returns>
    public static (Tier? Floor, int UntilDay) Validate(SetTierRequest request, LoyaltyProgram program, DateTime today)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        var floor = request.Tier.Length == 0 ? null : program.Tiers.Find(request.Tier);
        if (request.Tier.Length > 0 && floor is null)
        {
            Add(ref violations, "tier", $"the program has no tier '{Printable(request.Tier)}' ({string.Join(", ", program.Tiers.Tiers.Select(t => t.Id))})");
        }

        var untilDay = 0;
        if (request.Tier.Length > 0 || request.ValidUntil.Length > 0)
        {
            if (!DateTime.TryParseExact(request.ValidUntil, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var until))
            {
                Add(ref violations, "valid_until", "the floor's last day, YYYY-MM-DD on the program's clock");
            }
            else if (until < today.Date)
            {
                Add(ref violations, "valid_until", $"in the past: today is {today:yyyy-MM-dd} on the program's clock");
            }
            else
            {
                untilDay = ProgramCalendar.PeriodKey(until, PeriodUnit.Day);
            }
        }

        if (request.Reason.Trim().Length == 0 || request.Reason.Length > MaxReasonLength || HasControlCharacters(request.Reason))
        {
            Add(ref violations, "reason", $"required, 1-{MaxReasonLength} characters without control characters");
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }

        return (floor, floor is null ? 0 : untilDay);
    }

    /// <summary>The largest adjustment either way: a typing slip of a few zeros must not reach the ledger.</summary>
    public const long MaxAdjustmentPoints = 1_000_000_000;

    public const int MaxNoteLength = 500;

    public static void Validate(AdjustPointsRequest request)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        if (request.Points == 0 || request.Points is > MaxAdjustmentPoints or < -MaxAdjustmentPoints)
        {
            Add(ref violations, "points", $"non-zero, at most {MaxAdjustmentPoints:N0} either way: positive credits, negative debits");
        }

        if (request.Reason == AdjustmentReason.Unspecified || !System.Enum.IsDefined(request.Reason))
        {
            Add(ref violations, "reason", "one of GOODWILL, CORRECTION, COMPENSATION, FRAUD, MIGRATION, OTHER");
        }

        if (request.Note.Length > MaxNoteLength || HasControlCharacters(request.Note))
        {
            Add(ref violations, "note", $"at most {MaxNoteLength} characters without control characters");
        }
        else if (request.Reason == AdjustmentReason.Other && request.Note.Trim().Length == 0)
        {
            Add(ref violations, "note", "required with reason OTHER: say why");
        }

        if (request.Force && request.Points > 0)
        {
            Add(ref violations, "force", "applies to debits only (negative points)");
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    public const int DefaultHistoryPageSize = 20;

    public const int MaxHistoryPageSize = 100;

    /// <summary>Checks a history request (all but its page token, which only the history can read).</summary>
    /// <returns>The page size to use.</returns>
    public static int Validate(ListTransactionsRequest request)
    {
        List<FieldViolation>? violations = null;
        CheckId(request.MemberId, "member_id", ref violations);
        if (request.PageSize is < 0 or > MaxHistoryPageSize)
        {
            Add(ref violations, "page_size", $"1-{MaxHistoryPageSize}, or 0 for {DefaultHistoryPageSize}");
        }

        for (var i = 0; i < request.Kinds.Count; i++)
        {
            if (request.Kinds[i] == TransactionKind.Unspecified || !System.Enum.IsDefined(request.Kinds[i]))
            {
                Add(ref violations, $"kinds[{i}]", "a transaction kind other than TRANSACTION_KIND_UNSPECIFIED");
            }
        }

        CheckInstant(request.From, "from", ref violations);
        CheckInstant(request.To, "to", ref violations);
        if (request.From is { } from && request.To is { } to && from.CompareTo(to) >= 0)
        {
            Add(ref violations, "to", "must be after from");
        }

        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }

        return request.PageSize == 0 ? DefaultHistoryPageSize : request.PageSize;
    }

    private static void CheckInstant(Timestamp? instant, string field, ref List<FieldViolation>? violations)
    {
        if (instant is not null && (instant.Nanos is < 0 or > 999_999_999 || instant.Seconds is < MinTimestampSeconds or > MaxTimestampSeconds))
        {
            Add(ref violations, field, "a valid timestamp between 0001-01-01 and 9999-12-31");
        }
    }

    /// <summary>Whether a value is an id (1-64 of <c>[A-Za-z0-9._:-]</c>), and what an id must be, for the violations of other services.</summary>
    public static bool IsValidId(string value) => IsId(value);

    public const string IdRequirement = IdRule;

    public static void ValidateMemberId(string memberId, string field = "member_id")
    {
        if (!IsId(memberId))
        {
            throw RpcErrors.InvalidArgument(field, IdRule);
        }
    }

    public static void Validate(PurchaseMembershipRequest request, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew)
    {
        List<FieldViolation>? violations = null;
        CheckTransactionId(request.TransactionId, ref violations);
        CheckId(request.MemberId, "member_id", ref violations);
        CheckId(request.MembershipId, "membership_id", ref violations);
        CheckOccurredAt(request.OccurredAt, "occurred_at", limits, now, clockSkew, ref violations);
        if (violations is not null)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    private const string IdRule = "required, 1-64 characters of letters, digits, '.', '_', ':' or '-'";

    private static bool IsId(string value) =>
        value.Length is > 0 and <= MaxIdLength && value.AsSpan().IndexOfAnyExcept(IdCharacters) < 0;

    /// <summary>
    /// What every call at the till names: its id, the member, what it refers to (a hold, a purchase) if anything, the
    /// store, the channel and when it happened, checked in that order.
    /// </summary>
    private static void CheckSpend(
        string transactionId, string memberId, string storeId, Contracts.V1.Channel channel, Timestamp? occurredAt,
        ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew, ref List<FieldViolation>? violations, (string Field, string Value)? reference = null)
    {
        CheckTransactionId(transactionId, ref violations);
        CheckId(memberId, "member_id", ref violations);
        if (reference is { } referred)
        {
            CheckId(referred.Value, referred.Field, ref violations);
        }

        CheckId(storeId, "store_id", ref violations);
        CheckChannel(channel, ref violations);
        CheckOccurredAt(occurredAt, "occurred_at", limits, now, clockSkew, ref violations);
    }

    /// <summary>Points a redemption, a hold or a capture moves.</summary>
    private static void CheckPoints(long points, ScoringOptions limits, ref List<FieldViolation>? violations)
    {
        if (points <= 0 || points > limits.MaxRedeemPoints)
        {
            Add(ref violations, "points", $"must be between 1 and {limits.MaxRedeemPoints}");
        }
    }

    private static void CheckId(string value, string field, ref List<FieldViolation>? violations)
    {
        if (!IsId(value))
        {
            Add(ref violations, field, IdRule);
        }
    }

    private static void CheckTransactionId(string value, ref List<FieldViolation>? violations)
    {
        if (!IsId(value))
        {
            Add(ref violations, "transaction_id", IdRule);
        }
        else
        {
            // A loop rather than a lambda: this runs on every call, and a capturing lambda allocates.
            foreach (var reserved in ServerTransactionIds.Prefixes)
            {
                if (value.StartsWith(reserved, StringComparison.Ordinal))
                {
                    Add(ref violations, "transaction_id", $"ids starting with '{reserved}' are reserved for transactions the server starts itself");
                }
            }
        }
    }

    private static void CheckChannel(Contracts.V1.Channel channel, ref List<FieldViolation>? violations)
    {
        if (channel == Contracts.V1.Channel.Unspecified || !System.Enum.IsDefined(channel))
        {
            Add(ref violations, "channel", "required, one of the defined channels");
        }
    }

    /// <summary>The instant a timestamp names; null when it is missing or not a valid timestamp (validation says why).</summary>
    public static DateTimeOffset? InstantOf(Timestamp? timestamp) =>
        timestamp is null || timestamp.Nanos is < 0 or > 999_999_999 || timestamp.Seconds is < MinTimestampSeconds or > MaxTimestampSeconds
            ? null
            : timestamp.ToDateTimeOffset();

    private static void CheckOccurredAt(Timestamp? occurredAt, string field, ScoringOptions limits, DateTimeOffset now, TimeSpan clockSkew, ref List<FieldViolation>? violations)
    {
        if (occurredAt is null)
        {
            Add(ref violations, field, "required");
            return;
        }

        if (InstantOf(occurredAt) is not { } at)
        {
            Add(ref violations, field, "not a valid timestamp");
            return;
        }

        if (at > now + clockSkew)
        {
            Add(ref violations, field, $"is in the future (more than {clockSkew.TotalSeconds:0} s ahead of the server)");
        }
        else if (at < now - limits.MaxBackdate)
        {
            Add(ref violations, field, $"is more than {limits.MaxBackdate.TotalDays:0} days in the past");
        }
    }

    private static void Add(ref List<FieldViolation>? violations, string field, string description) =>
        (violations ??= []).Add(new FieldViolation { Field = field, Description = description });
}
