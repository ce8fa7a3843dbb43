namespace LoyaltyCore.Engine.Kpis;

/// <summary>The arithmetic of the KPIs, in integers where money is involved, rounded half away from zero.</summary>
public static class KpiMath
{
    /// <summary><paramref name="numerator"/> / <paramref name="denominator"/>, or 0 when there is nothing to divide by.</summary>
    public static double Ratio(long numerator, long denominator) => denominator == 0 ? 0 : (double)numerator / denominator;

    /// <summary>What <paramref name="points"/> cost the program at a price per thousand points, in minor units.</summary>
    public static long PointsCostMinor(long points, long costPerThousandPointsMinor) =>
        DivideRounded((Int128)points * costPerThousandPointsMinor, 1000);

    /// <summary>
    /// The running cost of <paramref name="days"/> days at a monthly cost: a month is a twelfth of a 365-day year, so
    /// a year of days costs exactly twelve months.
    /// </summary>
    public static long RunningCostMinor(long perMonthMinor, int days) => DivideRounded((Int128)perMonthMinor * 12 * days, 365);

    /// <summary>An amount in minor units over a count (revenue per member), rounded half away from zero; 0 over none.</summary>
    public static long PerMinor(long amountMinor, long count) => count == 0 ? 0 : DivideRounded(amountMinor, count);

    /// <summary>An amount in minor units as major units, for gauges (exact for any amount below 2^53).</summary>
    public static double Major(long amountMinor, int exponent) => amountMinor / Math.Pow(10, exponent);

    /// <summary>Integer division rounding half away from zero (the rounding every money figure of a report uses).</summary>
    public static long DivideRounded(Int128 numerator, Int128 denominator)
    {
        // A zero denominator throws DivideByZeroException from the division itself.
        if (denominator < 0)
        {
            numerator = -numerator;
            denominator = -denominator;
        }

        var quotient = Int128.DivRem(Int128.Abs(numerator), denominator);
        var magnitude = quotient.Quotient + (quotient.Remainder * 2 >= denominator ? 1 : 0);
        return (long)(numerator < 0 ? -magnitude : magnitude);
    }

    /// <summary>The change from <paramref name="previous"/> to <paramref name="current"/> as a fraction; null without a base.</summary>
    public static double? Change(long current, long previous) => previous == 0 ? null : (double)(current - previous) / previous;

    /// <summary>An amount in minor units written in major units: <c>-150</c> at exponent 2 is <c>-1.50</c>.</summary>
    public static string FormatMajor(long amountMinor, int exponent)
    {
        var scale = 1m;
        for (var i = 0; i < exponent; i++)
        {
            scale *= 10;
        }

        return (amountMinor / scale).ToString("F" + exponent.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
    }
}
