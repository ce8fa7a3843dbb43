namespace LoyaltyCore.Engine.Kpis;

/// <summary>One ledger row as the KPI rollups read it.</summary>
/// <param name="Day">The UTC day it occurred on, as <c>yyyymmdd</c>.</param>
/// <param name="Rules">The comma-separated keys it counts under in the per-rule rollup (its rule ids, or the reward claimed).</param>
/// <param name="Sequence">The member's transaction sequence: the latest row tells the member's tier.</param>
/// <param name="IsPurchase">A scored purchase: it makes the member active and counts as an order.</param>
public readonly record struct KpiRow(
    string MemberId,
    int Kind,
    int Channel,
    long Points,
    long SpendMinor,
    int Day,
    string Rules,
    string TierAfter,
    long Sequence,
    bool IsPurchase);

public readonly record struct DailyKey(int Day, int Kind, int Channel);

/// <summary>A day's rows of one kind and channel: how many, the points they credited and debited, their spend.</summary>
public sealed class DailyTotals
{
    public long Entries { get; set; }

    public long Credits { get; set; }

    public long Debits { get; set; }

    public long SpendMinor { get; set; }
}

public readonly record struct RuleKey(int Day, int Kind, string Rule);

public sealed class RuleTotals
{
    public long Entries { get; set; }

    public long Points { get; set; }
}

/// <summary>What a page of rows adds to a member: merged into the stored totals by the rollup's upsert.</summary>
public sealed class MemberTotals
{
    public int FirstDay { get; set; } = int.MaxValue;

    /// <summary>The last day with a purchase; 0 for none.</summary>
    public int LastPurchaseDay { get; set; }

    public long Purchases { get; set; }

    public long SpendMinor { get; set; }

    public string Tier { get; set; } = string.Empty;

    /// <summary>The sequence of the row <see cref="Tier"/> comes from; -1 before any.</summary>
    public long TierSequence { get; set; } = -1;
}

/// <summary>
/// Sums a page of ledger rows into the increments of the KPI rollup tables: per day, kind and channel; per day, kind
/// and rule; and per member. Additive, so pages can be applied in any number of steps and the totals stay exact.
/// </summary>
public sealed class KpiRollup
{
    private readonly Dictionary<DailyKey, DailyTotals> _daily = [];
    private readonly Dictionary<RuleKey, RuleTotals> _rules = [];
    private readonly Dictionary<string, MemberTotals> _members = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<DailyKey, DailyTotals> Daily => _daily;

    public IReadOnlyDictionary<RuleKey, RuleTotals> Rules => _rules;

    public IReadOnlyDictionary<string, MemberTotals> Members => _members;

    public int Rows { get; private set; }

    public void Add(in KpiRow row)
    {
        Rows++;
        var daily = Get(_daily, new DailyKey(row.Day, row.Kind, row.Channel));
        daily.Entries++;
        if (row.Points > 0)
        {
            daily.Credits += row.Points;
        }
        else
        {
            daily.Debits -= row.Points;
        }

        daily.SpendMinor += row.SpendMinor;

        foreach (var range in row.Rules.AsSpan().Split(','))
        {
            var rule = row.Rules[range];
            if (rule.Length == 0)
            {
                continue;
            }

            var totals = Get(_rules, new RuleKey(row.Day, row.Kind, rule));
            totals.Entries++;
            totals.Points += row.Points;
        }

        var member = Get(_members, row.MemberId);
        member.FirstDay = Math.Min(member.FirstDay, row.Day);
        if (row.IsPurchase)
        {
            member.Purchases++;
            member.SpendMinor += row.SpendMinor;
            member.LastPurchaseDay = Math.Max(member.LastPurchaseDay, row.Day);
        }

        if (row.Sequence >= member.TierSequence)
        {
            member.Tier = row.TierAfter;
            member.TierSequence = row.Sequence;
        }
    }

    private static TValue Get<TKey, TValue>(Dictionary<TKey, TValue> totals, TKey key)
        where TKey : notnull
        where TValue : class, new()
    {
        if (!totals.TryGetValue(key, out var value))
        {
            value = new TValue();
            totals.Add(key, value);
        }

        return value;
    }
}
