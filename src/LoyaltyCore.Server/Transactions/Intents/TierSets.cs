using System.Globalization;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// The fields a transaction outside the engine sets when it leaves the member at a tier (a redemption that applied a
/// review or moved the tier, a tier set by hand): the tier, the transaction's own fields, and the counters a review
/// or a tier change sets. Recorded on its ledger row too, so a rebuild replays them.
/// </summary>
internal static class TierSets
{
    /// <summary>The tier a debit leaves: on the balance with immediate downgrades it follows the balance; otherwise it stays.</summary>
    public static Tier AfterDebit(TierPolicy policy, MemberState state, DateTime local, Tier current, long balanceAfter) =>
        policy is { Metric: QualificationMetric.Balance, Downgrade: DowngradePolicy.Immediate }
            ? policy.After(state, local, current, balanceAfter)
            : current;

    public static List<KeyValuePair<string, string>> Record(
        LedgerEntry entry, TierPolicy policy, MemberState state, Tier tierAfter, int? reviewApplied, params ReadOnlySpan<KeyValuePair<string, string>> fields)
    {
        List<KeyValuePair<string, string>> sets = [new(MemberFields.Tier, tierAfter.Id), .. fields];
        foreach (var (key, value) in policy.CountersSetBy(state, tierAfter, reviewApplied))
        {
            sets.Add(new(key, value.ToString(CultureInfo.InvariantCulture)));
        }

        entry.Changes = new StateChanges();
        foreach (var (name, value) in sets)
        {
            entry.Changes.Sets[name] = value;
        }

        return sets;
    }
}
