using System.Globalization;

namespace LoyaltyCore.Engine.Calendar;

public enum PeriodUnit
{
    Day,
    Week,
    Month,
    Year,
}

/// <summary>Local dates and period keys in the program's time zone: days, caps and periods follow the shop's clock.</summary>
public sealed class ProgramCalendar(TimeZoneInfo timeZone)
{
    public TimeZoneInfo TimeZone { get; } = timeZone;

    public DateTime LocalTime(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone).DateTime;

    /// <summary>The local day an instant falls on.</summary>
    public DateOnly LocalDay(DateTimeOffset instant) => DateOnly.FromDateTime(LocalTime(instant));

    /// <summary>An instant from a local wall-clock time (an ambiguous or skipped local time resolves like the BCL does).</summary>
    public DateTimeOffset Instant(DateTime local) =>
        new(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), TimeZone.GetUtcOffset(DateTime.SpecifyKind(local, DateTimeKind.Unspecified)));

    /// <summary>A sortable number naming the period containing <paramref name="local"/>: 20261123, 202648 (ISO week), 202611, 2026.</summary>
    public static int PeriodKey(DateTime local, PeriodUnit unit) => unit switch
    {
        PeriodUnit.Day => (local.Year * 10_000) + (local.Month * 100) + local.Day,
        PeriodUnit.Week => (ISOWeek.GetYear(local) * 100) + ISOWeek.GetWeekOfYear(local),
        PeriodUnit.Month => (local.Year * 100) + local.Month,
        PeriodUnit.Year => local.Year,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, null),
    };

    /// <summary>A day of the year as <c>MM-DD</c> (29 February included), or null when the text is not one.</summary>
    public static (int Month, int Day)? ParseMonthDay(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length == 5 && text[2] == '-'
            && DateTime.TryParseExact("2000-" + text, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out var day)
                ? (day.Month, day.Day)
                : null;
    }

    public static int MonthKey(int year, int month) => (year * 100) + month;

    public static (int Year, int Month) AddMonths(int year, int month, int delta)
    {
        var index = (year * 12) + (month - 1) + delta;
        return (index / 12, (index % 12) + 1);
    }
}
