namespace LoyaltyCore.Engine.Scoring;

/// <param name="Labels">The line's key/value attributes, keys unique; null or empty when it has none.</param>
public readonly record struct BasketLine(string Sku, string Category, string Brand, int Quantity, long UnitPriceMinor, IReadOnlyList<LineLabel>? Labels = null)
{
    public long TotalMinor => checked(Quantity * UnitPriceMinor);

    /// <summary>The value of the label <paramref name="key"/>, or null when the line does not carry it.</summary>
    public string? Label(string key)
    {
        if (Labels is { } labels)
        {
            for (var i = 0; i < labels.Count; i++)
            {
                if (string.Equals(labels[i].Key, key, StringComparison.Ordinal))
                {
                    return labels[i].Value;
                }
            }
        }

        return null;
    }
}

/// <summary>A purchase as the engine sees it: validated lines and their total in minor currency units.</summary>
public sealed class Basket
{
    private Basket(BasketLine[] lines, long totalMinor, Channel channel, string storeId, DateTimeOffset occurredAt)
    {
        Lines = lines;
        TotalMinor = totalMinor;
        Channel = channel;
        StoreId = storeId;
        OccurredAt = occurredAt;
    }

    public IReadOnlyList<BasketLine> Lines { get; }

    public long TotalMinor { get; }

    public Channel Channel { get; }

    public string StoreId { get; }

    public DateTimeOffset OccurredAt { get; }

    /// <summary>
    /// Builds a basket, or names the first line whose total (or running total) overflows int64.
    /// Quantities and prices are expected to be validated as positive / non-negative already.
    /// </summary>
    public static bool TryCreate(BasketLine[] lines, Channel channel, string storeId, DateTimeOffset occurredAt, out Basket? basket, out int overflowingLine)
    {
        long total = 0;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.UnitPriceMinor != 0 && line.Quantity > long.MaxValue / line.UnitPriceMinor)
            {
                return Fail(i, out basket, out overflowingLine);
            }

            var lineTotal = line.Quantity * line.UnitPriceMinor;
            if (total > long.MaxValue - lineTotal)
            {
                return Fail(i, out basket, out overflowingLine);
            }

            total += lineTotal;
        }

        basket = new Basket(lines, total, channel, storeId, occurredAt);
        overflowingLine = -1;
        return true;
    }

    private static bool Fail(int line, out Basket? basket, out int overflowingLine)
    {
        basket = null;
        overflowingLine = line;
        return false;
    }
}

/// <summary>Mirrors the contract's channel enum so the engine stays free of generated code.</summary>
public enum Channel
{
    Unspecified = 0,
    Store = 1,
    Web = 2,
    MobileApp = 3,
    Partner = 4,
    CallCenter = 5,
}
