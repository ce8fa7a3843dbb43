namespace LoyaltyCore.Server.Partners;

/// <summary>The arithmetic of what a partner owes.</summary>
internal static class Settlements
{
    /// <summary>
    /// <paramref name="netPoints"/> x <paramref name="pricePerThousandMinor"/> / 1000, rounded half away from zero to the
    /// minor unit; computed in 128 bits, so no product overflows.
    /// </summary>
    public static long AmountOwed(long netPoints, long pricePerThousandMinor)
    {
        var product = (Int128)netPoints * pricePerThousandMinor;
        var magnitude = (Int128.Abs(product) + 500) / 1000;
        return checked((long)(product < 0 ? -magnitude : magnitude));
    }
}
