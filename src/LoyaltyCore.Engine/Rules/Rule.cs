using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Rules;

/// <summary>
/// One configured mechanic. Rules run in program order (program rules, then each campaign's rules); a rule fires when
/// its campaign is live and its condition holds, awards its points through the evaluation (which applies caps), and
/// may stop every later rule.
/// </summary>
public abstract class Rule(string id, string reason, Condition? when, bool stop)
{
    public string Id { get; } = id;

    public string Reason { get; } = reason;

    public Condition? When { get; } = when;

    /// <summary>When this rule fires, no later rule is evaluated (objectives, referral and caps still apply).</summary>
    public bool Stop { get; } = stop;

    public Campaign? Campaign { get; internal set; }

    /// <summary>
    /// Spend (minor units, exclusions removed) the rule needs before it awards anything: on its own lines for a
    /// multiplier with a line filter, on the whole basket otherwise.
    /// </summary>
    public long MinimumSpendMinor { get; init; }

    /// <summary>The points this rule would award before caps; zero when it has nothing to act on.</summary>
    public abstract long Points(Evaluation evaluation);

    /// <summary>
    /// The eligible spend an award of this rule on the basket needed, at least 1: its minimum spend, or what its
    /// condition asks of the basket (worked out once: the rule never changes).
    /// </summary>
    public long RequiredSpendMinor => _requiredSpendMinor ??= Math.Max(1, Math.Max(MinimumSpendMinor, When?.RequiredBasketMinor ?? 0));

    private long? _requiredSpendMinor;

    /// <summary>Awards what <see cref="Points"/> asked for, on the lines it acted on or on the basket.</summary>
    internal virtual long Award(Evaluation evaluation, long points) =>
        evaluation.AwardOnBasket(Id, points, Reason, RequiredSpendMinor, Campaign);
}

/// <summary>
/// Earns <c>factor</c> times the base rate on the matching lines: it adds <c>(factor - 1) x base</c>, so multipliers
/// add up rather than compound (x2 and x1.5 on the same line give x2.5).
/// </summary>
public sealed class MultiplierRule(string id, string reason, Condition? when, bool stop, int factorBasisPoints, LineFilter? lines)
    : Rule(id, reason, when, stop)
{
    public int FactorBasisPoints { get; } = factorBasisPoints;

    public override long Points(Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var spend = lines is null ? evaluation.EligibleSpendMinor : evaluation.EligibleSpendOf(lines);
        return spend < MinimumSpendMinor ? 0 : evaluation.Program.ExtraPoints(spend, FactorBasisPoints);
    }

    // With a line filter its minimum spend is on its own lines and its condition on the basket; without, both on the basket.
    internal override long Award(Evaluation evaluation, long points) => lines is null
        ? evaluation.AwardOnLines(Id, points, Reason, null, Campaign, Math.Max(MinimumSpendMinor, When?.RequiredBasketMinor ?? 0))
        : evaluation.AwardOnLines(Id, points, Reason, lines, Campaign, When?.RequiredBasketMinor ?? 0, MinimumSpendMinor);
}

/// <summary>A fixed number of points when the rule's condition holds (basket threshold, first or nth purchase...).</summary>
public sealed class BonusRule(string id, string reason, Condition? when, bool stop, long points) : Rule(id, reason, when, stop)
{
    public override long Points(Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return evaluation.EligibleSpendMinor < MinimumSpendMinor ? 0 : points;
    }
}

/// <summary>
/// Points when a member event happens (<c>newsletter_subscribed</c>, <c>review_posted</c>...), at most
/// <see cref="Limit"/> times. Never evaluated on a purchase, as purchase rules are never evaluated on an event.
/// </summary>
public sealed class EventRule(string id, string reason, Condition? when, bool stop, string eventName, long points, EventLimit? limit)
    : Rule(id, reason, when, stop)
{
    public string EventName { get; } = eventName;

    public EventLimit? Limit { get; } = limit;

    /// <summary>For <see cref="EventNames.TierReached"/>: the tiers whose reaching fires the rule; empty for any.</summary>
    public IReadOnlySet<string> Reached { get; init; } = new HashSet<string>();

    public override long Points(Evaluation evaluation) => points;
}

/// <summary>How often an event rule may fire for one member: <see cref="Count"/> times in all, or per local period.</summary>
public sealed record EventLimit(int Count, PeriodUnit? Period);

/// <summary>The member events every program knows; a program may declare more in its <c>events</c> list.</summary>
public static class EventNames
{
    /// <summary>Fired by the server when a member enrols.</summary>
    public const string Enrolled = "enrolled";

    /// <summary>Fired by the engine inside the transaction that moves a member up a tier.</summary>
    public const string TierReached = "tier_reached";

    /// <summary>Fired by the server's birthday run on the member's birthday.</summary>
    public const string Birthday = "birthday";

    /// <summary>Events a client records with RecordEvent.</summary>
    public static readonly IReadOnlySet<string> Standard = new HashSet<string>(StringComparer.Ordinal)
    {
        "newsletter_subscribed", "app_installed", "review_posted", "profile_completed",
    };

    /// <summary>Events the server fires itself; RecordEvent refuses them.</summary>
    public static readonly IReadOnlySet<string> BuiltIn = new HashSet<string>(StringComparer.Ordinal) { Enrolled, TierReached, Birthday };
}
