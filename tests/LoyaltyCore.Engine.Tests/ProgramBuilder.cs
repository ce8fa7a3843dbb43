using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tests;

internal static class ProgramBuilder
{
    public const string SampleJson = """
        {
          "id": "test", "version": "1", "currency": "EUR",
          "earn": { "points": 1, "perMinor": 100, "rounding": "floor" },
          "tiers": [
            { "id": "member", "threshold": 0 },
            { "id": "silver", "name": "Silver", "threshold": 50000, "multiplier": 1.25 },
            { "id": "gold", "name": "Gold", "threshold": 200000, "multiplier": 1.5 }
          ]
        }
        """;

    public static LoyaltyProgram Sample(string rounding = "floor") =>
        ProgramParser.Parse(SampleJson.Replace("\"floor\"", $"\"{rounding}\"", StringComparison.Ordinal));

    public static Basket Basket(params (int Quantity, long UnitPriceMinor)[] lines)
    {
        var basketLines = lines.Select((l, i) => new BasketLine($"sku-{i}", "grocery", "brand", l.Quantity, l.UnitPriceMinor)).ToArray();
        Assert.True(Scoring.Basket.TryCreate(basketLines, Channel.Store, "store-1", DateTimeOffset.UnixEpoch, out var basket, out _));
        return basket!;
    }

    public static MemberState Member(long lifetimeSpendMinor = 0, string tier = "member", long balance = 0) =>
        new() { Balance = balance, LifetimeSpendMinor = lifetimeSpendMinor, Tier = tier };
}
