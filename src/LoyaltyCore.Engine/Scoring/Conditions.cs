namespace LoyaltyCore.Engine.Scoring;

/// <summary>A compiled predicate over a purchase, its member and its local time; composed with all / any / not.</summary>
public abstract class Condition
{
    public abstract bool Matches(Evaluation evaluation);

    /// <summary>
    /// The eligible basket spend (minor units) this condition needs to hold, as far as it depends on spend: what a
    /// return must leave for an award it gated to stand. 0 when it needs none.
    /// </summary>
    public virtual long RequiredBasketMinor => 0;
}

internal sealed class AllCondition(Condition[] parts) : Condition
{
    public override long RequiredBasketMinor
    {
        get
        {
            long required = 0;
            foreach (var part in parts)
            {
                required = Math.Max(required, part.RequiredBasketMinor);
            }

            return required;
        }
    }

    public override bool Matches(Evaluation evaluation)
    {
        foreach (var part in parts)
        {
            if (!part.Matches(evaluation))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class AnyCondition(Condition[] parts) : Condition
{
    // Any one part is enough, so spend is needed only if every part needs it.
    public override long RequiredBasketMinor
    {
        get
        {
            if (parts.Length == 0)
            {
                return 0;
            }

            var required = long.MaxValue;
            foreach (var part in parts)
            {
                required = Math.Min(required, part.RequiredBasketMinor);
            }

            return required;
        }
    }

    public override bool Matches(Evaluation evaluation)
    {
        foreach (var part in parts)
        {
            if (part.Matches(evaluation))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class NotCondition(Condition inner) : Condition
{
    public override bool Matches(Evaluation evaluation) => !inner.Matches(evaluation);
}

internal sealed class ChannelCondition(int channelMask) : Condition
{
    public override bool Matches(Evaluation evaluation) => (channelMask & (1 << (int)evaluation.Basket.Channel)) != 0;
}

internal sealed class StoreCondition(IReadOnlySet<string> stores) : Condition
{
    public override bool Matches(Evaluation evaluation) => stores.Contains(evaluation.Basket.StoreId);
}

/// <summary>The member's tier at the start of the purchase is one of these (tier-exclusive rules).</summary>
internal sealed class TierCondition(IReadOnlySet<string> tiers) : Condition
{
    public override bool Matches(Evaluation evaluation) => tiers.Contains(evaluation.TierBefore.Id);
}

/// <summary>The member holds at least one of these segments (segment-exclusive rules).</summary>
internal sealed class SegmentCondition(string[] segments) : Condition
{
    public override bool Matches(Evaluation evaluation)
    {
        foreach (var segment in segments)
        {
            if (evaluation.Member.HasSegment(segment))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>The member holds this paid membership, unexpired at the time of purchase.</summary>
internal sealed class MembershipCondition(string membership) : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Member.HasMembershipAt(membership, evaluation.Basket.OccurredAt);
}

/// <summary>Spend that earns (exclusions removed) is at least this, in minor units.</summary>
internal sealed class BasketTotalCondition(long minimumMinor) : Condition
{
    public override long RequiredBasketMinor => minimumMinor;

    public override bool Matches(Evaluation evaluation) => evaluation.EligibleSpendMinor >= minimumMinor;
}

/// <summary>At least one earning line matches the filter.</summary>
internal sealed class BasketContainsCondition(LineFilter filter) : Condition
{
    public override bool Matches(Evaluation evaluation)
    {
        var lines = evaluation.Basket.Lines;
        for (var i = 0; i < lines.Count; i++)
        {
            if (evaluation.IsEligible(i) && filter.Matches(lines[i]))
            {
                return true;
            }
        }

        return false;
    }
}

internal sealed class DayOfWeekCondition(int dayMask) : Condition
{
    public override bool Matches(Evaluation evaluation) => (dayMask & (1 << (int)evaluation.LocalTime.DayOfWeek)) != 0;
}

/// <summary>Local time of day in [from, to); a range that ends before it starts wraps past midnight.</summary>
internal sealed class TimeOfDayCondition(TimeSpan from, TimeSpan to) : Condition
{
    public override bool Matches(Evaluation evaluation)
    {
        var time = evaluation.LocalTime.TimeOfDay;
        return from <= to ? time >= from && time < to : time >= from || time < to;
    }
}

/// <summary>The purchase falls in [start, end), both instants resolved from local times once, at compile time.</summary>
internal sealed class WindowCondition(DateTimeOffset start, DateTimeOffset end) : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Basket.OccurredAt >= start && evaluation.Basket.OccurredAt < end;
}

internal sealed class EnrolledWithinDaysCondition(int days) : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Basket.OccurredAt - evaluation.Member.EnrolledAt < TimeSpan.FromDays(days);
}

internal sealed class EnrolledBeforeCondition(DateTimeOffset instant) : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Member.EnrolledAt < instant;
}

internal sealed class LifetimeSpendCondition(long minimumMinor) : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Member.LifetimeSpendMinor >= minimumMinor;
}

internal sealed class FirstPurchaseCondition : Condition
{
    public override bool Matches(Evaluation evaluation) => evaluation.Member.Purchases == 0;
}

/// <summary>This purchase is exactly the nth of its period (so the bonus fires once per period).</summary>
internal sealed class NthPurchaseCondition(int n, Calendar.PeriodUnit unit) : Condition
{
    public Calendar.PeriodUnit Unit { get; } = unit;

    public override bool Matches(Evaluation evaluation) =>
        evaluation.Member.Counter(evaluation.Keys.Purchases(Unit)) + 1 == n;
}

/// <summary>The member joined through a referral (true) or not (false).</summary>
internal sealed class ReferredCondition(bool referred) : Condition
{
    public override bool Matches(Evaluation evaluation) => (evaluation.Member.ReferredBy is not null) == referred;
}
