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
