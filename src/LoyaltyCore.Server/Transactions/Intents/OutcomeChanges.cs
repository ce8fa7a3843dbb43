using System.Globalization;
using Google.Protobuf.Collections;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// What an engine outcome (a purchase's or an event's) changes, in the hot state's terms (increments and sets) and
/// the ledger's (the state changes replayed on a rebuild, the rules that fired, the budget draws).
/// </summary>
internal sealed class OutcomeChanges
{
    private OutcomeChanges(List<KeyValuePair<string, long>> increments, List<KeyValuePair<string, string>> sets, List<CampaignAward>? draws)
    {
        Increments = increments;
        Sets = sets;
        Draws = draws;
    }

    public List<KeyValuePair<string, long>> Increments { get; }

    public List<KeyValuePair<string, string>> Sets { get; }

    /// <summary>Points drawn from budgeted campaigns; null when none.</summary>
    public List<CampaignAward>? Draws { get; }

    /// <summary>Records the changes, rules and draws on <paramref name="entry"/> and returns them for the hot state.</summary>
    /// <param name="derived">
    /// Increments the ledger row implies by itself (spend, purchase count), applied to the hot state but not
    /// recorded as changes, since a rebuild derives them from the row.
    /// </param>
    public static OutcomeChanges Of(ScoreOutcome outcome, LoyaltyProgram program, LedgerEntry entry, ReadOnlySpan<KeyValuePair<string, long>> derived)
    {
        var ledger = new StateChanges();
        var increments = new List<KeyValuePair<string, long>>(outcome.CounterDeltas.Count + derived.Length);
        increments.AddRange(derived);
        foreach (var (key, delta) in outcome.CounterDeltas)
        {
            increments.Add(new(key, delta));
            ledger.Increments[key] = ledger.Increments.GetValueOrDefault(key) + delta;
        }

        var sets = new List<KeyValuePair<string, string>>(1 + outcome.CounterSets.Count) { new(MemberFields.Tier, outcome.TierAfter.Id) };
        ledger.Sets[MemberFields.Tier] = outcome.TierAfter.Id;
        foreach (var (key, value) in outcome.CounterSets)
        {
            var text = value.ToString(CultureInfo.InvariantCulture);
            sets.Add(new(key, text));
            ledger.Sets[key] = text;
        }

        List<CampaignAward>? draws = null;
        foreach (var award in outcome.CampaignAwards)
        {
            entry.CampaignDraws.Add(new CampaignDraw { CampaignId = award.CampaignId, Points = award.Points });
            if (program.FindCampaign(award.CampaignId)?.Budget is not null)
            {
                (draws ??= []).Add(award);
            }
        }

        var ruleIds = new string[outcome.Breakdown.Count];
        for (var i = 0; i < ruleIds.Length; i++)
        {
            ruleIds[i] = outcome.Breakdown[i].RuleId;
        }

        entry.RuleIds = string.Join(',', ruleIds);
        entry.Changes = ledger;
        return new OutcomeChanges(increments, sets, draws);
    }

    public static void AddBreakdown(ScoreOutcome outcome, RepeatedField<BreakdownEntry> breakdown)
    {
        foreach (var line in outcome.Breakdown)
        {
            var entry = new BreakdownEntry
            {
                RuleId = line.RuleId,
                Points = line.Points,
                Reason = line.Reason,
                CampaignId = line.CampaignId ?? string.Empty,
                RequiredLinesSpendMinor = line.RequiredLinesSpendMinor,
            };
            if (line.RequiredCounter is null)
            {
                entry.RequiredSpendMinor = line.RequiredSpendMinor;
            }
            else
            {
                entry.RequiredYearSpendMinor = line.RequiredSpendMinor;
            }

            foreach (var share in line.Lines ?? [])
            {
                entry.Lines.Add(new LinePoints { Line = share.Line, Points = share.Points });
            }

            breakdown.Add(entry);
        }
    }
}
