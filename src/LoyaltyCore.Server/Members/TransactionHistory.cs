using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.Server.Members;

/// <summary>
/// A member's ledger rows as pages, newest first, with AIP-158 page tokens: a token names the last row of its page
/// (keyset pagination, so rows committed meanwhile neither shift nor repeat a page) and the filter it was issued for.
/// </summary>
internal sealed class TransactionHistory(LedgerStore ledger)
{
    private const string TokenVersion = "1";

    public async Task<ListTransactionsResponse> ListAsync(ListTransactionsRequest request, CancellationToken cancellationToken)
    {
        var pageSize = RequestValidation.Validate(request);
        var kinds = request.Kinds.Select(ToEntryKind).Distinct().Order().ToList();
        var fromMs = request.From?.ToDateTimeOffset().ToUnixTimeMilliseconds();
        var toMs = request.To?.ToDateTimeOffset().ToUnixTimeMilliseconds();
        var filter = FilterHash(request.MemberId, kinds, fromMs, toMs);
        var after = request.PageToken.Length == 0 ? ((long, string)?)null : ReadToken(request.PageToken, filter);
        if (await ledger.MemberAsync(request.MemberId, cancellationToken) is null)
        {
            throw RpcErrors.MemberNotFound(request.MemberId);
        }

        // One row more than the page: whether it exists says whether there is a next page.
        var rows = await ledger.TransactionPageAsync(new TransactionPageQuery(request.MemberId, kinds, fromMs, toMs, after, pageSize + 1), cancellationToken);
        var response = new ListTransactionsResponse();
        foreach (var row in rows.Take(pageSize))
        {
            response.Transactions.Add(ToRecord(row));
        }

        if (rows.Count > pageSize)
        {
            var last = rows[pageSize - 1];
            response.NextPageToken = WriteToken(last.OccurredAtMs, last.TransactionId, filter);
        }

        return response;
    }

    private static TransactionRecord ToRecord(TransactionRow row)
    {
        var kind = ToTransactionKind((EntryKind)row.Kind);
        var record = new TransactionRecord
        {
            TransactionId = row.TransactionId,
            Kind = kind,
            Points = row.Points,
            BalanceAfter = row.BalanceAfter,
            TierAfter = row.TierAfter,
            SpendMinor = row.SpendMinor,
            ProgramVersion = row.ProgramVersion,
            StoreId = row.StoreId,
            Channel = (Channel)row.Channel,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(row.OccurredAtMs)),
            RecordedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(row.RecordedAtMs)),
        };
        record.RuleIds.AddRange(row.RuleIds.Split(',', StringSplitOptions.RemoveEmptyEntries));
        if (row.RefersTo is { Length: > 0 } refersTo)
        {
            record.RefersTo = refersTo;
        }
        else if (kind == TransactionKind.Referral && row.TransactionId.StartsWith(ServerTransactionIds.Referral, StringComparison.Ordinal))
        {
            record.RefersTo = row.TransactionId[ServerTransactionIds.Referral.Length..];
        }

        if (kind == TransactionKind.Adjustment)
        {
            // The stored answer is the adjustment's record of who, why and whether forced.
            var answer = AdjustPointsResponse.Parser.ParseFrom(row.Response);
            record.Adjustment = new AdjustmentDetails { Reason = answer.Reason, Note = answer.Note, OperatorId = answer.OperatorId, Forced = answer.Forced };
        }

        return record;
    }

    private static int ToEntryKind(TransactionKind kind) => (int)(kind switch
    {
        TransactionKind.Purchase => EntryKind.Earn,
        TransactionKind.Redemption => EntryKind.Redeem,
        TransactionKind.Membership => EntryKind.Membership,
        TransactionKind.Profile => EntryKind.Profile,
        TransactionKind.Referral => EntryKind.Referral,
        TransactionKind.Event => EntryKind.Event,
        TransactionKind.TierFloor => EntryKind.TierFloor,
        TransactionKind.Adjustment => EntryKind.Adjustment,
        TransactionKind.Hold => EntryKind.Hold,
        TransactionKind.Capture => EntryKind.Capture,
        TransactionKind.HoldRelease => EntryKind.HoldRelease,
        TransactionKind.Return => EntryKind.Return,
        TransactionKind.Expiry => EntryKind.Expiry,
        TransactionKind.Reward => EntryKind.Reward,
        TransactionKind.OfferActivation => EntryKind.OfferActivation,
        TransactionKind.PartnerAward => EntryKind.PartnerAward,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "validated before"),
    });

    private static TransactionKind ToTransactionKind(EntryKind kind) => kind switch
    {
        EntryKind.Earn => TransactionKind.Purchase,
        EntryKind.Redeem => TransactionKind.Redemption,
        EntryKind.Membership => TransactionKind.Membership,
        EntryKind.Profile => TransactionKind.Profile,
        EntryKind.Referral => TransactionKind.Referral,
        EntryKind.Event => TransactionKind.Event,
        EntryKind.TierFloor => TransactionKind.TierFloor,
        EntryKind.Adjustment => TransactionKind.Adjustment,
        EntryKind.Hold => TransactionKind.Hold,
        EntryKind.Capture => TransactionKind.Capture,
        EntryKind.HoldRelease => TransactionKind.HoldRelease,
        EntryKind.Return => TransactionKind.Return,
        EntryKind.Expiry => TransactionKind.Expiry,
        EntryKind.Reward => TransactionKind.Reward,
        EntryKind.OfferActivation => TransactionKind.OfferActivation,
        EntryKind.PartnerAward => TransactionKind.PartnerAward,
        _ => TransactionKind.Unspecified,
    };

    private static string FilterHash(string memberId, IReadOnlyList<int> kinds, long? fromMs, long? toMs)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{memberId}|{string.Join(',', kinds)}|{fromMs}|{toMs}");
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 8);
    }

    private static string WriteToken(long occurredAtMs, string transactionId, string filter) =>
        Base64Url.Encode(string.Create(CultureInfo.InvariantCulture, $"{TokenVersion}|{filter}|{occurredAtMs}|{transactionId}"));

    private static (long OccurredAtMs, string TransactionId) ReadToken(string token, string filter)
    {
        var parts = Base64Url.Decode(token)?.Split('|', 4);
        if (parts is not [TokenVersion, var issuedFor, var occurred, var transactionId]
            || !long.TryParse(occurred, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var occurredAtMs)
            || transactionId.Length == 0)
        {
            throw RpcErrors.InvalidArgument("page_token", "not a page token this server issued: pass next_page_token of the previous page unchanged");
        }

        if (issuedFor != filter)
        {
            throw RpcErrors.InvalidArgument("page_token", "issued for another member_id, kinds, from or to: a token is valid only with the request that returned it");
        }

        return (occurredAtMs, transactionId);
    }

    private static class Base64Url
    {
        public static string Encode(string text) => System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(text));

        public static string? Decode(string token)
        {
            try
            {
                return Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token));
            }
            catch (FormatException)
            {
                return null;
            }
        }
    }
}
