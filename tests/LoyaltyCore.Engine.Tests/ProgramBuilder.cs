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

    /// <summary>Member / Silver x1.25 at 500.00 / Gold x1.5 at 2000.00, the ladder most mechanics tests run on.</summary>
    public const string StandardTiers = """
        [
          { "id": "member", "name": "Member", "threshold": 0 },
          { "id": "silver", "name": "Silver", "threshold": 50000, "multiplier": 1.25 },
          { "id": "gold", "name": "Gold", "threshold": 200000, "multiplier": 1.5 }
        ]
        """;

    public const string Paris = "Europe/Paris";

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

    /// <summary>
    /// A program document at 1 point per 1.00 EUR; <paramref name="sections"/> are further top-level members
    /// (<c>"rules": [...], "caps": {...}</c>) placed after the tiers.
    /// </summary>
    public static string Json(string sections = "", string timeZone = "UTC", string rounding = "floor", string tiers = StandardTiers)
    {
        var extra = sections.Length == 0 ? string.Empty : "," + sections;
        return $$"""
            {
              "id": "mechanics", "version": "1", "currency": "EUR", "timeZone": "{{timeZone}}",
              "earn": { "points": 1, "perMinor": 100, "rounding": "{{rounding}}" },
              "tiers": {{tiers}}
              {{extra}}
            }
            """;
    }

    public static LoyaltyProgram Program(string sections = "", string timeZone = "UTC", string rounding = "floor", string tiers = StandardTiers) =>
        ProgramParser.Parse(Json(sections, timeZone, rounding, tiers));

    /// <summary>Every validation message a program document produces; the document must be invalid.</summary>
    public static IReadOnlyList<string> Errors(string json) =>
        Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse(json)).Errors;

    public static DateTimeOffset Utc(int year, int month, int day, int hour = 12, int minute = 0, int second = 0) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    public static BasketLine Line(long unitPriceMinor, string category = "grocery", string brand = "house", string sku = "sku-1", int quantity = 1) =>
        new(sku, category, brand, quantity, unitPriceMinor);

    /// <summary>A line carrying labels given as <c>"key=value"</c>.</summary>
    public static BasketLine Labelled(long unitPriceMinor, params string[] labels) =>
        Line(unitPriceMinor) with
        {
            Labels = labels.Select(l => l.Split('=', 2)).Select(p => new LineLabel(p[0], p[1])).ToArray(),
        };

    public static Basket BasketAt(DateTimeOffset occurredAt, params BasketLine[] lines) =>
        BasketAt(occurredAt, Channel.Store, "store-1", lines);

    public static Basket BasketAt(DateTimeOffset occurredAt, Channel channel, string storeId, params BasketLine[] lines)
    {
        Assert.True(Scoring.Basket.TryCreate(lines, channel, storeId, occurredAt, out var basket, out _));
        return basket!;
    }

    public static Dictionary<string, long> Counters(params (string Key, long Value)[] counters) =>
        counters.ToDictionary(c => c.Key, c => c.Value, StringComparer.Ordinal);

    /// <summary>The breakdown as (rule id, points) pairs, in award order.</summary>
    public static (string RuleId, long Points)[] Lines(this ScoreOutcome outcome) =>
        outcome.Breakdown.Select(b => (b.RuleId, b.Points)).ToArray();

    public static (string Key, long Value)[] Deltas(this ScoreOutcome outcome) =>
        outcome.CounterDeltas.Select(d => (d.Key, d.Value)).ToArray();

    public static (string Key, long Value)[] Sets(this ScoreOutcome outcome) =>
        outcome.CounterSets.Select(d => (d.Key, d.Value)).ToArray();

    /// <summary>The summed delta of one counter, or null when the outcome does not touch it.</summary>
    public static long? Delta(this ScoreOutcome outcome, string key)
    {
        var matching = outcome.CounterDeltas.Where(d => string.Equals(d.Key, key, StringComparison.Ordinal)).ToArray();
        return matching.Length == 0 ? null : matching.Sum(d => d.Value);
    }

    /// <summary>The breakdown as (rule id, points, reason), in award order: what the member is told.</summary>
    public static (string RuleId, long Points, string Reason)[] Awards(this ScoreOutcome outcome) =>
        outcome.Breakdown.Select(b => b.Said()).ToArray();

    public static (string RuleId, long Points, string Reason) Said(this BreakdownLine line) => (line.RuleId, line.Points, line.Reason);

    public static BreakdownLine LineFor(this ScoreOutcome outcome, string ruleId) =>
        Assert.Single(outcome.Breakdown, b => string.Equals(b.RuleId, ruleId, StringComparison.Ordinal));
}
