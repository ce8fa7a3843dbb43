using System.Globalization;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Points;

/// <summary>Points earned on one local day that expire on the same day (0: never).</summary>
/// <param name="Extends">Earned under a policy whose activity extends lots: the member's activity can push it later.</param>
public readonly record struct PointLot(string Key, int EarnedOn, int ExpiresOn, bool Extends, long Points);

/// <summary>What a change of the balance does to the member's lots, as counter changes of the member's state.</summary>
/// <param name="LotExpiresOn">
/// The day the ledger row marks for the expiry run: a lot it opened (or extended) expires then, or points it had to
/// leave for later are due again then; 0 when there is none.
/// </param>
public sealed record LotChanges(
    IReadOnlyList<KeyValuePair<string, long>> Increments,
    IReadOnlyList<KeyValuePair<string, string>> Sets,
    IReadOnlyList<string> Deletes,
    long Points,
    int LotExpiresOn)
{
    public static LotChanges None { get; } = new([], [], [], 0, 0);

    public bool IsEmpty => Increments.Count == 0 && Sets.Count == 0 && Deletes.Count == 0;
}

/// <summary>
/// Points held in lots by the day they were earned, as counters of the member's state: <c>k.lt:EARNED:EXPIRES</c>
/// (<c>k.le:</c> for a lot whose expiry activity extends). The balance is always the sum of the open lots, the
/// points owed (<c>k.ld</c>, never above zero: what a debit took beyond every lot, repaid by the next earnings) and
/// the points earned before lots were kept (never written: the balance less the rest, spent first and never
/// expiring). Debits take from the oldest lot first; a return first from the lots of its purchase's day.
/// </summary>
public static class PointLots
{
    public const string FixedPrefix = "k.lt:";
    public const string ExtendingPrefix = "k.le:";

    /// <summary>Points a debit took beyond every lot (zero or less).</summary>
    public const string DebtKey = "k.ld";

    /// <summary>The day the member's last activity extends extending lots to (yyyymmdd).</summary>
    public const string ExtendedToKey = "k.lx";

    public static string Key(int earnedOn, int expiresOn, bool extends) =>
        string.Create(CultureInfo.InvariantCulture, $"{(extends ? ExtendingPrefix : FixedPrefix)}{earnedOn}:{expiresOn}");

    public static bool TryParse(string key, long points, out PointLot lot)
    {
        ArgumentNullException.ThrowIfNull(key);
        lot = default;
        var extends = key.StartsWith(ExtendingPrefix, StringComparison.Ordinal);
        if (!extends && !key.StartsWith(FixedPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = key.AsSpan(FixedPrefix.Length);
        var colon = rest.IndexOf(':');
        if (colon < 0
            || !int.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var earned)
            || !int.TryParse(rest[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return false;
        }

        lot = new PointLot(key, earned, expires, extends, points);
        return true;
    }

    /// <summary>The member's open lots, oldest first (by the day earned, then the day they expire).</summary>
    public static List<PointLot> Open(MemberState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var lots = new List<PointLot>();
        foreach (var (key, points) in state.Counters)
        {
            if (points > 0 && TryParse(key, points, out var lot))
            {
                lots.Add(lot);
            }
        }

        lots.Sort(static (a, b) => a.EarnedOn != b.EarnedOn ? a.EarnedOn.CompareTo(b.EarnedOn) : a.ExpiresOn.CompareTo(b.ExpiresOn));
        return lots;
    }

    /// <summary>Points earned before lots were kept: the balance less the lots and the debt (never below zero).</summary>
    public static long Unlotted(MemberState state, IReadOnlyList<PointLot> lots)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(lots);
        var rest = state.Balance - state.Counter(DebtKey);
        foreach (var lot in lots)
        {
            rest -= lot.Points;
        }

        return Math.Max(0, rest);
    }

    /// <summary>The day a lot expires on, its member's activity counted; 0 when it never does.</summary>
    public static int ExpiresOn(in PointLot lot, MemberState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return ExpiresOn(lot, state.Counter(ExtendedToKey));
    }

    /// <summary>The next points to expire: their amount and the day they expire on; null when none will.</summary>
    public static (long Points, int ExpiresOn)? NextExpiry(MemberState state) => NextExpiry(state, LotChanges.None);

    /// <summary>The next points to expire once <paramref name="changes"/> are applied to <paramref name="state"/>.</summary>
    public static (long Points, int ExpiresOn)? NextExpiry(MemberState state, LotChanges changes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(changes);
        var extendedTo = state.Counter(ExtendedToKey);
        foreach (var (key, value) in changes.Sets)
        {
            if (key == ExtendedToKey)
            {
                extendedTo = long.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        long points = 0;
        var day = int.MaxValue;
        foreach (var (key, value) in state.Counters)
        {
            if (!changes.Deletes.Contains(key))
            {
                Consider(key, value + Increment(changes, key));
            }
        }

        foreach (var (key, value) in changes.Increments)
        {
            if (!state.Counters.ContainsKey(key))
            {
                Consider(key, value);
            }
        }

        return day == int.MaxValue ? null : (points, day);

        void Consider(string key, long value)
        {
            if (value <= 0 || !TryParse(key, value, out var lot))
            {
                return;
            }

            var expires = ExpiresOn(lot, extendedTo);
            if (expires == 0 || expires > day)
            {
                return;
            }

            points = expires == day ? points + value : value;
            day = expires;
        }
    }

    private static long Increment(LotChanges changes, string key)
    {
        long total = 0;
        foreach (var (name, delta) in changes.Increments)
        {
            if (name == key)
            {
                total += delta;
            }
        }

        return total;
    }

    private static int ExpiresOn(in PointLot lot, long extendedTo) =>
        lot.ExpiresOn == 0 || !lot.Extends ? lot.ExpiresOn : (int)Math.Max(lot.ExpiresOn, extendedTo);

    /// <summary>
    /// The lot changes of a transaction that moves the balance by <paramref name="delta"/>. Earned points repay the
    /// debt first, then open (or add to) the lot of <paramref name="earnedOn"/>, expiring as <paramref name="policy"/>
    /// says. Spent points come from the lots of <paramref name="preferEarnedOn"/> first (a return's purchase day), then
    /// from points earned before lots were kept, then from the oldest lots; what no lot covers becomes debt.
    /// </summary>
    /// <param name="activity">A purchase: under a policy that extends lots, it pushes every extending lot to its own expiry.</param>
    public static LotChanges Change(MemberState state, long delta, DateOnly earnedOn, ExpiryPolicy policy, bool activity, int preferEarnedOn = 0)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(policy);
        var extendTo = activity && policy.ExtendOnActivity ? policy.ExpiresOn(earnedOn) : 0;
        var extends = extendTo > state.Counter(ExtendedToKey);
        if (delta == 0 && !extends)
        {
            return LotChanges.None;
        }

        var increments = new List<KeyValuePair<string, long>>(2);
        var sets = extends
            ? new List<KeyValuePair<string, string>>(1) { new(ExtendedToKey, extendTo.ToString(CultureInfo.InvariantCulture)) }
            : [];
        var deletes = new List<string>();
        var marked = extends ? extendTo : 0;
        if (delta > 0)
        {
            var debt = state.Counter(DebtKey);
            var repaid = Math.Min(delta, -debt);
            if (repaid > 0)
            {
                AddOrDelete(DebtKey, debt, repaid, increments, deletes);
            }

            if (delta > repaid)
            {
                var day = ExpiryPolicy.DayKey(earnedOn);
                var expires = policy.ExpiresOn(earnedOn);
                increments.Add(new(Key(day, expires, policy.ExtendOnActivity && expires != 0), delta - repaid));
                marked = Math.Max(marked, expires);
            }
        }
        else if (delta < 0)
        {
            var lots = Open(state);
            var owed = Take(lots, state, -delta, preferEarnedOn, increments, deletes, dueBy: 0);
            if (owed > 0)
            {
                increments.Add(new(DebtKey, -owed));
            }
        }

        return new LotChanges(increments, sets, deletes, delta, marked);
    }

    /// <summary>
    /// The lots due on <paramref name="asOf"/> (expiring on it or before), expired up to the points available (the
    /// balance less what open holds reserve): points a hold reserves are not expired under it, and stay due.
    /// </summary>
    /// <returns>The changes, whose <see cref="LotChanges.Points"/> is minus the points expired.</returns>
    public static LotChanges Expire(MemberState state, int asOf)
    {
        ArgumentNullException.ThrowIfNull(state);
        var lots = Open(state);
        long due = 0;
        foreach (var lot in lots)
        {
            if (IsDue(lot, state, asOf))
            {
                due += lot.Points;
            }
        }

        var expiring = Math.Min(due, Math.Max(0, state.AvailablePoints));
        if (expiring == 0)
        {
            return LotChanges.None;
        }

        var increments = new List<KeyValuePair<string, long>>(1);
        var deletes = new List<string>();
        Take(lots, state, expiring, 0, increments, deletes, asOf);
        var left = due - expiring;
        return new LotChanges(increments, [], deletes, -expiring, left > 0 ? NextDay(asOf) : 0);
    }

    public static bool IsDue(in PointLot lot, MemberState state, int asOf)
    {
        var expires = ExpiresOn(lot, state);
        return expires != 0 && expires <= asOf;
    }

    // Takes points from the lots in spending order; returns what they could not cover. With dueBy, only lots due by
    // then are taken, and nothing is taken from points earned before lots were kept (they never expire).
    private static long Take(List<PointLot> lots, MemberState state, long points, int preferEarnedOn, List<KeyValuePair<string, long>> increments, List<string> deletes, int dueBy)
    {
        var left = points;
        if (preferEarnedOn != 0)
        {
            foreach (var lot in lots)
            {
                if (lot.EarnedOn == preferEarnedOn)
                {
                    left = TakeFrom(lot, left, increments, deletes);
                }
            }
        }

        if (dueBy == 0)
        {
            left -= Math.Min(left, Unlotted(state, lots));
        }

        foreach (var lot in lots)
        {
            if (left == 0)
            {
                break;
            }

            if ((preferEarnedOn == 0 || lot.EarnedOn != preferEarnedOn) && (dueBy == 0 || IsDue(lot, state, dueBy)))
            {
                left = TakeFrom(lot, left, increments, deletes);
            }
        }

        return left;
    }

    private static long TakeFrom(in PointLot lot, long wanted, List<KeyValuePair<string, long>> increments, List<string> deletes)
    {
        var taken = Math.Min(wanted, lot.Points);
        if (taken > 0)
        {
            AddOrDelete(lot.Key, lot.Points, -taken, increments, deletes);
        }

        return wanted - taken;
    }

    private static void AddOrDelete(string key, long current, long delta, List<KeyValuePair<string, long>> increments, List<string> deletes)
    {
        if (current + delta == 0)
        {
            deletes.Add(key);
        }
        else
        {
            increments.Add(new(key, delta));
        }
    }

    private static int NextDay(int day) => ExpiryPolicy.DayKey(ExpiryPolicy.Day(day).AddDays(1));
}
