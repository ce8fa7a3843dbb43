using Google.Protobuf.WellKnownTypes;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

internal static class Ids
{
    public static string Member() => "m-" + Guid.NewGuid().ToString("N")[..24];

    public static string Transaction() => "t-" + Guid.NewGuid().ToString("N")[..24];
}

internal static class Requests
{
    /// <summary>A purchase of 45.20 EUR (1 pt per euro: 45 points for an entry-tier member) unless lines are given.</summary>
    public static ScoreRequest Score(string memberId, string? transactionId = null, DateTimeOffset? occurredAt = null, params Line[] lines)
    {
        var request = new ScoreRequest
        {
            TransactionId = transactionId ?? Ids.Transaction(),
            MemberId = memberId,
            StoreId = "store-042",
            Channel = Channel.Store,
            OccurredAt = Timestamp.FromDateTimeOffset(occurredAt ?? DateTimeOffset.UtcNow),
            Currency = "EUR",
        };
        request.Lines.AddRange(lines.Length > 0
            ? lines
            : [Line("sku-1", 2, 1_260), Line("sku-2", 1, 2_000)]);
        return request;
    }

    public static Line Line(string sku, int quantity, long unitPriceMinor) =>
        new() { Sku = sku, Category = "grocery", Brand = "acme", Quantity = quantity, UnitPriceMinor = unitPriceMinor };

    public static RedeemRequest Redeem(string memberId, long points, string? transactionId = null) => new()
    {
        TransactionId = transactionId ?? Ids.Transaction(),
        MemberId = memberId,
        Points = points,
        StoreId = "store-042",
        Channel = Channel.Store,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };
}
