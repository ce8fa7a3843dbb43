using System.Globalization;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Points;

/// <summary>Points earned on one local day that expire on the same day (0: never).</summary>
/// <param name="Extends">Earned under a policy whose activity extends lots: the member's activity can push it later.</param>
/// <param name="Funder">The partner that funded the points; null for the program's own.</param>
public readonly record struct PointLot(string Key, int EarnedOn, int ExpiresOn, bool Extends, long Points, string? Funder = null);

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
/// (<c>k.le:</c> for a lot whose expiry activity extends), followed by <c>:PARTNER</c> for points a partner funded. The balance is always the sum of the open lots, the
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

    public static string Key(int earnedOn, int expiresOn, bool extends, string? funder = null) =>
        funder is null
            ? string.Create(CultureInfo.InvariantCulture, $"{(extends ? ExtendingPrefix : FixedPrefix)}{earnedOn}:{expiresOn}")
            : string.Create(CultureInfo.InvariantCulture, $"{(extends ? ExtendingPrefix : FixedPrefix)}{earnedOn}:{expiresOn}:{funder}");

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
        if (colon < 0 || !int.TryParse(rest[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var earned))
        {
            return false;
        }

        // The funder, when there is one, is all that follows the expiry (a partner id may hold ':').
        var tail = rest[(colon + 1)..];
        var funderAt = tail.IndexOf(':');
        var expiresText = funderAt < 0 ? tail : tail[..funderAt];
        if (!int.TryParse(expiresText, NumberStyles.None, CultureInfo.InvariantCulture, out var expires) || funderAt == tail.Length - 1)
        {
            return false;
        }

        lot = new PointLot(key, earned, expires, extends, points, funderAt < 0 ? null : tail[(funderAt + 1)..].ToString());
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

        // The key last: two lots of one day and expiry (the program's and a partner's) always come in the same order.
        lots.Sort(static (a, b) => a.EarnedOn != b.EarnedOn ? a.EarnedOn.CompareTo(b.EarnedOn)
            : a.ExpiresOn != b.ExpiresOn ? a.ExpiresOn.CompareTo(b.ExpiresOn)
            : string.CompareOrdinal(a.Key, b.Key));
        return lots;
    }

    /// <summary>
    /// Points earned before lots were kept: the balance less the lots and the points owed, when that is above zero
    /// (a balance that was below zero before lots were kept counts as owed instead, see <see cref="Owed"/>).
    /// </summary>
    public static long Unlotted(MemberState state, IReadOnlyList<PointLot> lots) => Math.Max(0, Legacy(state, lots));

    /// <summary>
    /// Points owed (zero or less): what debits took beyond every lot (<see cref="DebtKey"/>), and a balance that was
    /// below zero before lots were kept; the next points earned repay them before they open a lot.
    /// </summary>
    public static long Owed(MemberState state, IReadOnlyList<PointLot> lots) => Math.Min(0, Legacy(state, lots)) + state.Counter(DebtKey);

    // The balance not in lots nor owed as k.ld: points from before lots were kept (below zero: a debt from then).
    private static long Legacy(MemberState state, IReadOnlyList<PointLot> lots)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(lots);
        var rest = state.Balance - state.Counter(DebtKey);
        foreach (var lot in lots)
        {
            rest -= lot.Points;
        }

        return rest;
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

        for (var i = 0; i < changes.Increments.Count; i++)
        {
            var (key, value) = changes.Increments[i];
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

    // Indexed, not foreach: through the interface a foreach boxes an enumerator, once per counter of the member.
    private static long Increment(LotChanges changes, string key)
    {
        long total = 0;
        var increments = changes.Increments;
        for (var i = 0; i < increments.Count; i++)
        {
            if (increments[i].Key == key)
            {
                total += increments[i].Value;
            }
        }

        return total;
    }

    private static int ExpiresOn(in PointLot lot, long extendedTo) =>
        lot.ExpiresOn == 0 || !lot.Extends ? lot.ExpiresOn : (int)Math.Max(lot.ExpiresOn, extendedTo);

    /// <summary>
    /// The lot changes of a transaction that moves the balance by <paramref name="delta"/>. A review's reset included
    /// in it (<paramref name="reset"/>) is spent first, from the lots the member had; then what is left of the delta is
    /// earned or spent. Earned points repay what is owed first, then open (or add to) the lot of
    /// <paramref name="earnedOn"/>, expiring as <paramref name="policy"/> says. Spent points come from the lots of
    /// <paramref name="preferEarnedOn"/> first (a return's purchase day), then from points earned before lots were
    /// kept, then from the oldest lots; what no lot covers is owed.
    /// </summary>
    /// <param name="activity">A purchase: under a policy that extends lots, it pushes every extending lot to its own expiry.</param>
    /// <param name="funder">The partner funding the points earned, kept apart in lots of its own; null for the program.</param>
    public static LotChanges Change(MemberState state, long delta, DateOnly earnedOn, ExpiryPolicy policy, bool activity, int preferEarnedOn = 0, long reset = 0, string? funder = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegative(reset);
        var extendTo = activity && policy.ExtendOnActivity ? policy.ExpiresOn(earnedOn) : 0;
        var extends = extendTo > state.Counter(ExtendedToKey);
        if (delta == 0 && reset == 0 && !extends)
        {
            return LotChanges.None;
        }

        var net = delta + reset;
        var marked = extends ? extendTo : 0;
        var sets = extends
            ? new List<KeyValuePair<string, string>>(1) { new(ExtendedToKey, extendTo.ToString(CultureInfo.InvariantCulture)) }
            : [];
        var expires = net > 0 ? policy.ExpiresOn(earnedOn) : 0;
        if (reset == 0 && net > 0 && state.Balance - state.Counter(DebtKey) >= 0 && state.Counter(DebtKey) == 0)
        {
            // The common case, a purchase: nothing owed, so the points open (or add to) the day's lot.
            return new LotChanges([new(LotKey(policy, earnedOn, expires, funder), net)], sets, [], delta, Math.Max(marked, expires));
        }

        var work = new Work(state);
        work.Spend(reset, preferEarnedOn);
        if (net < 0)
        {
            work.Spend(-net, preferEarnedOn);
        }
        else if (net > 0 && work.Earn(net, LotKey(policy, earnedOn, expires, funder)))
        {
            marked = Math.Max(marked, expires);
        }

        var (increments, deletes) = work.Changes();
        return new LotChanges(increments, sets, deletes, delta, marked);
    }

    /// <summary>
    /// The lots due on <paramref name="asOf"/> (expiring on it or before), expired up to the points available (the
    /// balance less what open holds reserve): points a hold reserves are not expired under it, and stay due, marked
    /// for the next day (even when nothing could expire).
    /// </summary>
    /// <returns>The changes, whose <see cref="LotChanges.Points"/> is minus the points expired; <see cref="LotChanges.None"/> when nothing is due.</returns>
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

        if (due == 0)
        {
            return LotChanges.None;
        }

        var expiring = Math.Min(due, Math.Max(0, state.AvailablePoints));
        var work = new Work(state, lots);
        work.Expire(expiring, asOf);
        var (increments, deletes) = work.Changes();
        return new LotChanges(increments, [], deletes, -expiring, due > expiring ? NextDay(asOf) : 0);
    }

    /// <summary>
    /// The points each partner funded that <paramref name="changes"/> take off the member's lots (a decrement, or a lot
    /// deleted whole), by partner; empty when they take none.
    /// </summary>
    public static Dictionary<string, long> FundedPointsRemoved(MemberState before, LotChanges changes)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(changes);
        var removed = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (key, delta) in changes.Increments)
        {
            if (delta < 0 && TryParse(key, 0, out var lot) && lot.Funder is { } funder)
            {
                removed[funder] = removed.GetValueOrDefault(funder) - delta;
            }
        }

        foreach (var key in changes.Deletes)
        {
            if (TryParse(key, 0, out var lot) && lot.Funder is { } funder)
            {
                removed[funder] = removed.GetValueOrDefault(funder) + before.Counter(key);
            }
        }

        return removed;
    }

    private static string LotKey(ExpiryPolicy policy, DateOnly earnedOn, int expires, string? funder) =>
        funder is null ? policy.LotKey(earnedOn, expires) : Key(ExpiryPolicy.DayKey(earnedOn), expires, policy.ExtendOnActivity && expires != 0, funder);

    /// <summary>The member as <paramref name="changes"/> leave them: the balance moved and the lot counters changed.</summary>
    public static MemberState Apply(MemberState state, LotChanges changes)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.IsEmpty && changes.Points == 0)
        {
            return state;
        }

        var counters = new Dictionary<string, long>(state.Counters, StringComparer.Ordinal);
        foreach (var (key, delta) in changes.Increments)
        {
            counters[key] = counters.GetValueOrDefault(key) + delta;
        }

        foreach (var (key, value) in changes.Sets)
        {
            counters[key] = long.Parse(value, CultureInfo.InvariantCulture);
        }

        foreach (var key in changes.Deletes)
        {
            counters.Remove(key);
        }

        return state.With(state.Balance + changes.Points, counters);
    }

    public static bool IsDue(in PointLot lot, MemberState state, int asOf)
    {
        var expires = ExpiresOn(lot, state);
        return expires != 0 && expires <= asOf;
    }

    // The member's lots as a transaction moves them: each step sees what the steps before it left.
    private sealed class Work(MemberState state, List<PointLot>? lots = null)
    {
        private readonly Dictionary<string, long> _deltas = new(StringComparer.Ordinal);
        private List<PointLot>? _lots = lots;
        private long _legacy = long.MinValue;

        // Read only when points are spent: earning needs no lot but the one it opens.
        private List<PointLot> Lots => _lots ??= Open(state);

        private long Legacy
        {
            get
            {
                if (_legacy == long.MinValue)
                {
                    // Points owed mean no lot is left (debits empty every lot first, earnings repay before they open one).
                    var beyondDebt = state.Balance - state.Counter(DebtKey);
                    _legacy = beyondDebt < 0 ? beyondDebt : PointLots.Legacy(state, Lots);
                }

                return _legacy;
            }

            set => _legacy = value;
        }

        public void Spend(long points, int preferEarnedOn)
        {
            if (points == 0)
            {
                return;
            }

            var left = points;
            if (preferEarnedOn != 0)
            {
                foreach (var lot in Lots)
                {
                    if (lot.EarnedOn == preferEarnedOn)
                    {
                        left = Take(lot, left);
                    }
                }
            }

            var legacy = Math.Min(left, Math.Max(0, Legacy));
            Legacy -= legacy;
            left -= legacy;
            foreach (var lot in Lots)
            {
                if (left == 0)
                {
                    break;
                }

                if (preferEarnedOn == 0 || lot.EarnedOn != preferEarnedOn)
                {
                    left = Take(lot, left);
                }
            }

            if (left > 0)
            {
                Move(DebtKey, -left);
            }
        }

        public void Expire(long points, int asOf)
        {
            var left = points;
            foreach (var lot in Lots)
            {
                if (left > 0 && IsDue(lot, state, asOf))
                {
                    left = Take(lot, left);
                }
            }
        }

        /// <returns>Whether a lot was opened or added to (rather than only debts repaid).</returns>
        public bool Earn(long points, string lotKey)
        {
            var owed = -(state.Counter(DebtKey) + _deltas.GetValueOrDefault(DebtKey));
            var repaid = Math.Min(points, owed);
            if (repaid > 0)
            {
                Move(DebtKey, repaid);
                points -= repaid;
            }

            // A balance below zero from before lots were kept is repaid too, with no counter of its own.
            var legacyOwed = Math.Min(points, Math.Max(0, -Legacy));
            Legacy += legacyOwed;
            points -= legacyOwed;
            if (points > 0)
            {
                Move(lotKey, points);
            }

            return points > 0;
        }

        /// <summary>Each counter moved: an increment, or a deletion for a counter the moves bring to zero.</summary>
        public (List<KeyValuePair<string, long>> Increments, List<string> Deletes) Changes()
        {
            var increments = new List<KeyValuePair<string, long>>(_deltas.Count);
            var deletes = new List<string>();
            foreach (var (key, delta) in _deltas)
            {
                if (delta == 0)
                {
                    continue;
                }

                if (state.Counter(key) + delta == 0)
                {
                    deletes.Add(key);
                }
                else
                {
                    increments.Add(new(key, delta));
                }
            }

            return (increments, deletes);
        }

        private long Take(in PointLot lot, long wanted)
        {
            var taken = Math.Min(wanted, lot.Points + _deltas.GetValueOrDefault(lot.Key));
            if (taken > 0)
            {
                Move(lot.Key, -taken);
            }

            return wanted - taken;
        }

        private void Move(string key, long delta) => _deltas[key] = _deltas.GetValueOrDefault(key) + delta;
    }

    private static int NextDay(int day) => ExpiryPolicy.DayKey(ExpiryPolicy.Day(day).AddDays(1));
}
