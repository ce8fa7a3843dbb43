using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>An open hold as the member's state keeps it.</summary>
internal readonly record struct OpenHold(string HoldId, long Points, long ExpiresAtMs);

/// <summary>
/// A member's open holds live in their state as counters: the points all of them reserve (<c>k.hd</c>), and per hold
/// its points (<c>k.h:id</c>) and expiry (<c>k.hx:id</c>). Each hold transaction records the same changes on its ledger
/// row, so a rebuild replays them.
/// </summary>
internal static class HoldState
{
    public static OpenHold? Find(MemberState state, string holdId) =>
        state.Counters.TryGetValue(CounterKeys.HoldPoints(holdId), out var points)
            ? new OpenHold(holdId, points, state.Counter(CounterKeys.HoldExpiry(holdId)))
            : null;

    /// <summary>The member's open holds, the soonest to expire first.</summary>
    public static List<OpenHold> All(MemberState state)
    {
        var holds = new List<OpenHold>();
        foreach (var (key, points) in state.Counters)
        {
            if (key.StartsWith(CounterKeys.HoldPointsPrefix, StringComparison.Ordinal))
            {
                var holdId = key[CounterKeys.HoldPointsPrefix.Length..];
                holds.Add(new OpenHold(holdId, points, state.Counter(CounterKeys.HoldExpiry(holdId))));
            }
        }

        holds.Sort((a, b) => a.ExpiresAtMs != b.ExpiresAtMs ? a.ExpiresAtMs.CompareTo(b.ExpiresAtMs) : string.CompareOrdinal(a.HoldId, b.HoldId));
        return holds;
    }

    /// <summary>Opens a hold: the changes for the hot state, recorded on the entry (with what it records already) for a rebuild.</summary>
    public static (List<KeyValuePair<string, long>> Increments, List<KeyValuePair<string, string>> Sets) Open(LedgerEntry entry, string holdId, long points, long expiresAtMs)
    {
        var increments = new List<KeyValuePair<string, long>> { new(CounterKeys.HeldPoints, points) };
        var sets = new List<KeyValuePair<string, string>>
        {
            new(CounterKeys.HoldPoints(holdId), points.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new(CounterKeys.HoldExpiry(holdId), expiresAtMs.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        // Added to what the row already records (a review the transaction applied, a tier it set).
        var changes = entry.Changes ??= new StateChanges();
        changes.Increments[CounterKeys.HeldPoints] = points;
        foreach (var (key, value) in sets)
        {
            changes.Sets[key] = value;
        }

        entry.HoldExpiresAtUnixMs = expiresAtMs;
        return (increments, sets);
    }

    /// <summary>Ends a hold (captured, voided or expired): the changes for the hot state, recorded on the entry.</summary>
    public static (List<KeyValuePair<string, long>> Increments, List<string> Deletes) End(LedgerEntry entry, OpenHold hold)
    {
        var increments = new List<KeyValuePair<string, long>> { new(CounterKeys.HeldPoints, -hold.Points) };
        var deletes = new List<string> { CounterKeys.HoldPoints(hold.HoldId), CounterKeys.HoldExpiry(hold.HoldId) };
        var changes = entry.Changes ??= new StateChanges();
        changes.Increments[CounterKeys.HeldPoints] = -hold.Points;
        changes.Deletes.Add(deletes);
        entry.RefersTo = hold.HoldId;
        return (increments, deletes);
    }
}
