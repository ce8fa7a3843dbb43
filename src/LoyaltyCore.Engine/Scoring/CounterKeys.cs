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
    public static string QualifyingMonth(int monthKey) => Format("k.q:", monthKey);

    /// <summary>Points earned over the member's lifetime (tier qualification on lifetime points).</summary>
    public const string LifetimePoints = "k.pl";

    /// <summary>Spend in a calendar year (objectives).</summary>
    public static string YearSpend(int year) => Format("k.y:", year);

    /// <summary>Set once an objective step has fired in a year.</summary>
    public static string ObjectiveStep(string objectiveId, int year, int percent) =>
        string.Create(CultureInfo.InvariantCulture, $"k.o:{objectiveId}:{year}:{percent}");

    /// <summary>Set once the member's referral has been rewarded.</summary>
    public const string ReferralRewarded = "k.rr";

    /// <summary>The last tier review applied, as a day key.</summary>
    public const string TierReview = "k.tr";

    private static string Format(string prefix, int key) => string.Create(CultureInfo.InvariantCulture, $"{prefix}{key}");
}

public static class CounterStaleness
{
    /// <summary>
    /// Whether a counter no longer matters at <paramref name="local"/>: yesterday's points, a past period's purchases,
    /// qualification months older than any period looks back, last year's objective steps. The hot state drops them.
    /// </summary>
    public static bool IsStale(string key, DateTime local)
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
            return int.TryParse(yearText, out var stepYear) && stepYear < local.Year;
        }

        if (!int.TryParse(number, out var value))
        {
            return false;
        }

        return kind switch
        {
            "k.d" or "k.nd" => value != ProgramCalendar.PeriodKey(local, PeriodUnit.Day),
            "k.nw" => value != ProgramCalendar.PeriodKey(local, PeriodUnit.Week),
            "k.nm" => value != ProgramCalendar.PeriodKey(local, PeriodUnit.Month),
            "k.ny" => value != local.Year,
            "k.q" => value < OldestMonthKept(local),
            "k.y" => value < local.Year - 1,
            _ => false,
        };
    }

    private static int OldestMonthKept(DateTime local)
    {
        var (year, month) = ProgramCalendar.AddMonths(local.Year, local.Month, -(Tiers.TierPolicy.MonthsKept - 1));
        return ProgramCalendar.MonthKey(year, month);
    }
}
