using System.Globalization;
using LoyaltyCore.Engine.Calendar;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// Names of the member counters the engine keeps. All start with <c>k.</c> so the hot state can tell them from its
/// own fields; the ledger records every delta so they can be rebuilt.
/// </summary>
public static class CounterKeys
{
    public const string Prefix = "k.";

    /// <summary>Points earned on a local day (per-member daily cap).</summary>
    public static string DailyPoints(int dayKey) => Format("k.d:", dayKey);

    /// <summary>Points earned from a campaign (per-member campaign cap).</summary>
    public static string CampaignPoints(string campaignId) => "k.c:" + campaignId;

    /// <summary>Purchases in a period (nth-purchase bonuses).</summary>
    public static string Purchases(PeriodUnit unit, int periodKey) => Format(unit switch
    {
        PeriodUnit.Day => "k.nd:",
        PeriodUnit.Week => "k.nw:",
        PeriodUnit.Month => "k.nm:",
        _ => "k.ny:",
    }, periodKey);

    /// <summary>The tier qualification metric (spend or points) in a month.</summary>
    public static string QualifyingMonth(int monthKey)
    {
        // Rolling and calendar-year qualification read up to 25 of these per evaluation: format each month once.
        var year = monthKey / 100;
        var month = monthKey % 100;
        if (year is < CachedFromYear or >= CachedFromYear + CachedYears || month is < 1 or > 12)
        {
            return Format("k.q:", monthKey);
        }

        var index = ((year - CachedFromYear) * 12) + month - 1;
        return QualifyingMonths[index] ??= Format("k.q:", monthKey);
    }

    private const int CachedFromYear = 2000;
    private const int CachedYears = 200;
    private static readonly string?[] QualifyingMonths = new string?[CachedYears * 12];

    /// <summary>The qualification metric since the member's tier last changed (period <c>sinceLastTierChange</c>).</summary>
    public const string QualifyingSinceTierChange = "k.qc";

    /// <summary>Points earned over the member's lifetime (tier qualification on lifetime points).</summary>
    public const string LifetimePoints = "k.pl";

    /// <summary>Spend in a calendar year (objectives).</summary>
    public static string YearSpend(int year) => Format("k.y:", year);

    /// <summary>Set once an objective step has fired in a year.</summary>
    public static string ObjectiveStep(string objectiveId, int year, int percent) =>
        string.Create(CultureInfo.InvariantCulture, $"k.o:{objectiveId}:{year}:{percent}");

    /// <summary>Times an event rule fired for the member, in all (<paramref name="unit"/> null) or in one local period.</summary>
    public static string EventFirings(string ruleId, PeriodUnit? unit, DateTime local) => unit switch
    {
        null => "k.e:" + ruleId,
        PeriodUnit.Day => string.Create(CultureInfo.InvariantCulture, $"k.ed:{ProgramCalendar.PeriodKey(local, PeriodUnit.Day)}:{ruleId}"),
        PeriodUnit.Week => string.Create(CultureInfo.InvariantCulture, $"k.ew:{ProgramCalendar.PeriodKey(local, PeriodUnit.Week)}:{ruleId}"),
        PeriodUnit.Month => string.Create(CultureInfo.InvariantCulture, $"k.em:{ProgramCalendar.PeriodKey(local, PeriodUnit.Month)}:{ruleId}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"k.ey:{local.Year}:{ruleId}"),
    };

    /// <summary>Set once the member's referral has been rewarded.</summary>
    public const string ReferralRewarded = "k.rr";

    /// <summary>The last tier review applied, as a day key.</summary>
    public const string TierReview = "k.tr";

    /// <summary>Points reserved by the member's open holds, all together (what is available is the balance less these).</summary>
    public const string HeldPoints = "k.hd";

    /// <summary>Prefix of an open hold's points, followed by its id.</summary>
    public const string HoldPointsPrefix = "k.h:";

    /// <summary>Prefix of an open hold's expiry (Unix ms), followed by its id.</summary>
    public const string HoldExpiryPrefix = "k.hx:";

    /// <summary>Points an open hold reserves.</summary>
    public static string HoldPoints(string holdId) => HoldPointsPrefix + holdId;

    /// <summary>When an open hold expires (Unix ms).</summary>
    public static string HoldExpiry(string holdId) => HoldExpiryPrefix + holdId;

    private static string Format(string prefix, int key) => string.Create(CultureInfo.InvariantCulture, $"{prefix}{key}");
}

public static class CounterStaleness
{
    /// <summary>
    /// Whether a counter no longer matters at <paramref name="local"/>: yesterday's points, a past period's purchases,
    /// qualification months older than any period looks back, last year's objective steps. The hot state drops them.
    /// Counters of a period later than <paramref name="local"/> (a purchase dated in the past) are never stale.
    /// </summary>
    public static bool IsStale(string key, DateTime local) =>
        IsStale(key, ProgramCalendar.PeriodKey(local, PeriodUnit.Day), ProgramCalendar.PeriodKey(local, PeriodUnit.Week),
            ProgramCalendar.PeriodKey(local, PeriodUnit.Month), local.Year, OldestMonthKept(local));

    /// <summary>The same test with the date's period numbers computed once for all of a member's counters.</summary>
    internal static bool IsStale(string key, PeriodCounterKeys period) =>
        IsStale(key, period.DayKey, period.WeekKey, period.MonthKey, period.Year, period.OldestMonthKept);

    private static bool IsStale(string key, int day, int week, int month, int year, int oldestMonth)
    {
        ArgumentNullException.ThrowIfNull(key);
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        var kind = key.AsSpan(0, colon);
        var rest = key.AsSpan(colon + 1);
        var end = rest.IndexOf(':');
        var number = end < 0 ? rest : rest[..end];
        if (kind is "k.o")
        {
            // k.o:{objective}:{year}:{percent}; objective ids may themselves contain ':', so count from the end.
            var withoutPercent = rest[..rest.LastIndexOf(':')];
            var yearText = withoutPercent[(withoutPercent.LastIndexOf(':') + 1)..];
            return int.TryParse(yearText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var stepYear) && stepYear < year;
        }

        if (!int.TryParse(number, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }

        // A counter belongs to its own period: only periods before the one at hand are stale. A purchase uploaded
        // late (offline tills, streams) is dated in an earlier period and must leave the current period's counters be.
        return kind switch
        {
            "k.d" or "k.nd" or "k.ed" => value < day,
            "k.nw" or "k.ew" => value < week,
            "k.nm" or "k.em" => value < month,
            "k.ny" or "k.ey" => value < year,
            "k.q" => value < oldestMonth,
            "k.y" => value < year - 1,
            _ => false,
        };
    }

    private static int OldestMonthKept(DateTime local)
    {
        var (year, month) = ProgramCalendar.AddMonths(local.Year, local.Month, -(Tiers.TierPolicy.MonthsKept - 1));
        return ProgramCalendar.MonthKey(year, month);
    }
}
