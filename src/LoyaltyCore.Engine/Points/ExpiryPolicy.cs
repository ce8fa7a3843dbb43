namespace LoyaltyCore.Engine.Points;

/// <summary>The period whose end an <see cref="ExpiryPolicy.EndOfPeriod"/> lifetime counts in.</summary>
public enum ExpiryPeriod
{
    Month = 1,
    Quarter = 3,
    Year = 12,
}

/// <summary>
/// How long points live, fixed for each lot when it is earned: a lot keeps the day it expires on even when a later
/// program version changes the policy. Days are local yyyymmdd numbers; a lot expires at the start of its day.
/// </summary>
public sealed class ExpiryPolicy
{
    private ExpiryPolicy(int months, ExpiryPeriod? period, int periodsAfter, bool extendOnActivity)
    {
        Months = months;
        Period = period;
        PeriodsAfter = periodsAfter;
        ExtendOnActivity = extendOnActivity;
    }

    /// <summary>Points never expire (the policy of a program that configures none).</summary>
    public static ExpiryPolicy Never { get; } = new(0, null, 0, false);

    /// <summary>Points expire the given number of months after the day they were earned.</summary>
    public static ExpiryPolicy AfterMonths(int months, bool extendOnActivity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(months, 1);
        return new ExpiryPolicy(months, null, 0, extendOnActivity);
    }

    /// <summary>
    /// Points expire at the end of the period <paramref name="periodsAfter"/> periods after the one they were earned in
    /// (0: the end of the earning period itself; 1 with quarters: the end of the following quarter).
    /// </summary>
    public static ExpiryPolicy EndOfPeriod(ExpiryPeriod period, int periodsAfter, bool extendOnActivity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(periodsAfter);
        return new ExpiryPolicy(0, period, periodsAfter, extendOnActivity);
    }

    // Written whole by one reference: a reader sees a day with its own key, never a mix.
    private volatile LastKey? _lastKey;

    public int Months { get; }

    public ExpiryPeriod? Period { get; }

    public int PeriodsAfter { get; }

    /// <summary>A purchase moves the expiry of every lot earned under this policy to the purchase's own expiry, if later.</summary>
    public bool ExtendOnActivity { get; }

    public bool Expires => Months > 0 || Period is not null;

    /// <summary>The local day on which points earned on <paramref name="earned"/> expire, or 0 when they never do.</summary>
    public int ExpiresOn(DateOnly earned)
    {
        if (Months > 0)
        {
            return DayKey(earned.AddMonths(Months));
        }

        if (Period is not { } period)
        {
            return 0;
        }

        var length = (int)period;
        var firstMonthOfPeriod = ((earned.Month - 1) / length * length) + 1;
        // The day after the last day of the period PeriodsAfter periods on: the first day of the one after it.
        return DayKey(new DateOnly(earned.Year, firstMonthOfPeriod, 1).AddMonths(length * (PeriodsAfter + 1)));
    }

    /// <summary>The counter of the lot points earned on <paramref name="earned"/> go to (see <see cref="PointLots"/>).</summary>
    /// <param name="expiresOn">What <see cref="ExpiresOn"/> gives for that day.</param>
    public string LotKey(DateOnly earned, int expiresOn)
    {
        // Most transactions earn on the day the one before did: the key is built once a day, not once a purchase.
        var day = DayKey(earned);
        if (_lastKey is { } last && last.Day == day)
        {
            return last.Key;
        }

        var key = PointLots.Key(day, expiresOn, ExtendOnActivity && expiresOn != 0);
        _lastKey = new LastKey(day, key);
        return key;
    }

    public static int DayKey(DateOnly day) => (day.Year * 10_000) + (day.Month * 100) + day.Day;

    public static DateOnly Day(int dayKey) => new(dayKey / 10_000, dayKey / 100 % 100, dayKey % 100);

    private sealed record LastKey(int Day, string Key);
}
