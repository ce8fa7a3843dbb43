using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tiers;

public enum QualificationMetric
{
    Spend,
    Points,
}

public enum QualificationPeriod
{
    Lifetime,
    Rolling,
    CalendarYear,
}

/// <summary>
/// How members qualify for tiers: on spend or points earned, over their lifetime, a rolling number of months or the
/// calendar year. Upgrades happen on the purchase that qualifies; downgrades only at the yearly review date, when the
/// tier is recomputed from the period that ended there.
/// </summary>
public sealed class TierPolicy(TierLadder ladder, QualificationMetric metric, QualificationPeriod period, int rollingMonths, (int Month, int Day)? review)
{
    // Monthly buckets kept for a qualification period plus the one before it, so a review can look back.
    public const int MonthsKept = 25;

    public TierLadder Ladder { get; } = ladder;

    public QualificationMetric Metric { get; } = metric;

    public QualificationPeriod Period { get; } = period;

    public int RollingMonths { get; } = rollingMonths;

    public (int Month, int Day)? Review { get; } = review;

    public bool UsesMonthlyBuckets => Period != QualificationPeriod.Lifetime;

    /// <summary>The tier held at <paramref name="local"/>, after any review that fell due; and that review's day key.</summary>
    public (Tier Tier, int? ReviewApplied) Current(MemberState member, DateTime local)
    {
        var held = Ladder.Find(member.Tier);
        var byValue = Ladder.ForValue(QualifyingValue(member, local));
        var tier = held is null ? byValue : TierLadder.Higher(held, byValue);
        if (Review is not { } review)
        {
            return (tier, null);
        }

        var reviewDate = LastReviewOnOrBefore(local.Date, review);
        var reviewKey = ProgramCalendar.PeriodKey(reviewDate, PeriodUnit.Day);
        if (member.Counter(CounterKeys.TierReview) >= reviewKey)
        {
            return (tier, null);
        }

        // The review sets the tier from the period that ended at the review, up or down.
        var reviewed = Ladder.ForValue(QualifyingValue(member, reviewDate.AddDays(-1)));
        return (TierLadder.Higher(reviewed, Ladder.ForValue(QualifyingValue(member, local))), reviewKey);
    }

    /// <summary>The qualifying value of the period containing <paramref name="local"/>, from the member's counters.</summary>
    public long QualifyingValue(MemberState member, DateTime local)
    {
        ArgumentNullException.ThrowIfNull(member);
        switch (Period)
        {
            case QualificationPeriod.Lifetime:
                return Metric == QualificationMetric.Spend ? member.LifetimeSpendMinor : member.Counter(CounterKeys.LifetimePoints);
            case QualificationPeriod.CalendarYear:
                return SumMonths(member, local.Year, local.Month, local.Month);
            default:
                return SumMonths(member, local.Year, local.Month, RollingMonths);
        }
    }

    private static long SumMonths(MemberState member, int year, int month, int count)
    {
        long total = 0;
        for (var back = 0; back < count; back++)
        {
            var (y, m) = ProgramCalendar.AddMonths(year, month, -back);
            total += member.Counter(CounterKeys.QualifyingMonth(ProgramCalendar.MonthKey(y, m)));
        }

        return total;
    }

    private static DateTime LastReviewOnOrBefore(DateTime date, (int Month, int Day) review)
    {
        var thisYear = new DateTime(date.Year, review.Month, Math.Min(review.Day, DateTime.DaysInMonth(date.Year, review.Month)), 0, 0, 0, DateTimeKind.Unspecified);
        return thisYear <= date ? thisYear : thisYear.AddYears(-1);
    }
}
