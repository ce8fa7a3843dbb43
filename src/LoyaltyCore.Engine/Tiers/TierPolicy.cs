using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tiers;

public enum QualificationMetric
{
    Spend,
    Points,

    /// <summary>The points balance at the time: it goes down with redemptions.</summary>
    Balance,
}

public enum QualificationPeriod
{
    Lifetime,
    Rolling,
    CalendarYear,

    /// <summary>Accumulated since the member's tier last changed (counter <c>k.qc</c>, restarted at every change).</summary>
    SinceLastTierChange,
}

public enum ReviewReset
{
    None,

    /// <summary>The whole balance goes at the review.</summary>
    All,

    /// <summary>The member keeps at most the carry-over; the rest goes.</summary>
    AboveCarryOver,
}

public enum DowngradePolicy
{
    /// <summary>Tiers go down only at the review date.</summary>
    AtReview,

    /// <summary>The tier follows the qualifying value both ways, at every transaction.</summary>
    Immediate,
}

/// <summary>
/// How members qualify for tiers: on spend, points earned or the balance, over their lifetime, a rolling number of
/// months, the calendar year or since their last tier change. Upgrades happen on the transaction that qualifies;
/// downgrades at the yearly review date (when the tier is recomputed from the period that ended there) or, with
/// <see cref="DowngradePolicy.Immediate"/>, as soon as the value falls. A manual tier floor holds until its date.
/// </summary>
public sealed class TierPolicy(
    TierLadder ladder,
    QualificationMetric metric,
    QualificationPeriod period,
    int rollingMonths,
    (int Month, int Day)? review,
    DowngradePolicy downgrade = DowngradePolicy.AtReview,
    ReviewReset reset = ReviewReset.None,
    long carryOver = 0)
{
    // Monthly buckets kept for a qualification period plus the one before it, so a review can look back.
    public const int MonthsKept = 25;

    public TierLadder Ladder { get; } = ladder;

    public QualificationMetric Metric { get; } = metric;

    public QualificationPeriod Period { get; } = period;

    public int RollingMonths { get; } = rollingMonths;

    public (int Month, int Day)? Review { get; } = review;

    public DowngradePolicy Downgrade { get; } = downgrade;

    public ReviewReset Reset { get; } = reset;

    /// <summary>Points a member keeps at a review with <see cref="ReviewReset.AboveCarryOver"/>.</summary>
    public long CarryOver { get; } = carryOver;

    /// <summary>Points a review takes from the balance, when the transaction at hand applies one.</summary>
    public long PointsResetBy(MemberState member, int? reviewApplied)
    {
        ArgumentNullException.ThrowIfNull(member);
        return reviewApplied is null ? 0 : Reset switch
        {
            ReviewReset.All => Math.Max(0, member.Balance),
            ReviewReset.AboveCarryOver => Math.Max(0, member.Balance - CarryOver),
            _ => 0,
        };
    }

    public bool UsesMonthlyBuckets => Period is QualificationPeriod.Rolling or QualificationPeriod.CalendarYear;

    /// <summary>The manual floor that holds on <paramref name="local"/>'s date, if any.</summary>
    public Tier? FloorAt(MemberState member, DateTime local)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.TierFloor is { } floor && member.TierFloorUntil >= ProgramCalendar.PeriodKey(local, PeriodUnit.Day) ? Ladder.Find(floor) : null;
    }

    /// <summary>
    /// The tier after a transaction that brings the qualifying value to <paramref name="qualifyingAfter"/>: never
    /// below the tier held (unless downgrades are immediate) nor below a floor that holds.
    /// </summary>
    public Tier After(MemberState member, DateTime local, Tier tierBefore, long qualifyingAfter)
    {
        var byValue = Ladder.ForValue(qualifyingAfter);
        var tier = Downgrade == DowngradePolicy.Immediate ? byValue : TierLadder.Higher(tierBefore, byValue);
        return FloorAt(member, local) is { } floor ? TierLadder.Higher(tier, floor) : tier;
    }

    /// <summary>With qualification since the last tier change, a transaction that changes the tier restarts the count.</summary>
    public bool RestartsQualification(MemberState member, Tier tierAfter)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(tierAfter);
        return Period == QualificationPeriod.SinceLastTierChange && !string.Equals(tierAfter.Id, member.Tier, StringComparison.Ordinal);
    }

    /// <summary>
    /// The counters a transaction sets when it applies a review (the review's day) or changes the tier (the count since
    /// the last change restarts at zero); whatever kind of transaction it is.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, long>> CountersSetBy(MemberState member, Tier tierAfter, int? reviewApplied) =>
        (reviewApplied, RestartsQualification(member, tierAfter)) switch
        {
            (null, false) => [],
            ({ } review, false) => [new(CounterKeys.TierReview, review)],
            (null, true) => [new(CounterKeys.QualifyingSinceTierChange, 0)],
            ({ } review, true) => [new(CounterKeys.TierReview, review), new(CounterKeys.QualifyingSinceTierChange, 0)],
        };

    /// <summary>What a transaction adds to the qualifying value: its spend, or the points it earned.</summary>
    public long MetricOf(long spend, long points) => Metric == QualificationMetric.Spend ? spend : points;

    /// <summary>The tier held at <paramref name="local"/>, after any review that fell due; and that review's day key.</summary>
    public (Tier Tier, int? ReviewApplied) Current(MemberState member, DateTime local)
    {
        var held = Ladder.Find(member.Tier);
        var byValue = Ladder.ForValue(QualifyingValue(member, local));
        var tier = held is null || Downgrade == DowngradePolicy.Immediate ? byValue : TierLadder.Higher(held, byValue);
        var floor = FloorAt(member, local);
        if (floor is not null)
        {
            tier = TierLadder.Higher(tier, floor);
        }

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

        // The review sets the tier from the period that ended at the review, up or down, but not below a floor.
        var reviewed = TierLadder.Higher(Ladder.ForValue(QualifyingValue(member, reviewDate.AddDays(-1))), Ladder.ForValue(QualifyingValue(member, local)));
        return (floor is null ? reviewed : TierLadder.Higher(reviewed, floor), reviewKey);
    }

    /// <summary>The qualifying value of the period containing <paramref name="local"/>, from the member's counters.</summary>
    public long QualifyingValue(MemberState member, DateTime local)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (Metric == QualificationMetric.Balance)
        {
            return member.Balance;
        }

        switch (Period)
        {
            case QualificationPeriod.SinceLastTierChange:
                return member.Counter(CounterKeys.QualifyingSinceTierChange);
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
