using System.Globalization;
using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

internal sealed class ScoreIntent(ScoreRequest request, Basket basket, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<ScoreResponse>(request.TransactionId, request.MemberId, basket.OccurredAt.ToUnixTimeMilliseconds(), program, EntryKind.Earn, request)
{
    public override bool EnrollsUnknownMember => Program.AutoEnroll;

    public override MessageParser<ScoreResponse> Parser => ScoreResponse.Parser;

    public override PreparedTransaction<ScoreResponse> Prepare(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var outcome = Program.Score(snapshot.State, basket, budgetLimits);
        var balance = checked(snapshot.State.Balance + outcome.PointsEarned);
        var response = new ScoreResponse
        {
            TransactionId = request.TransactionId,
            PointsEarned = outcome.PointsEarned,
            Balance = balance,
            Tier = outcome.TierAfter.Id,
            PreviousTier = outcome.TierBefore.Id,
            ProgramVersion = Program.Version,
            SpendMinor = outcome.SpendMinor,
            TierProgress = Progress.ToMessage(Program, outcome.Progress),
        };

        var ruleIds = new string[outcome.Breakdown.Count];
        for (var i = 0; i < outcome.Breakdown.Count; i++)
        {
            var line = outcome.Breakdown[i];
            response.Breakdown.Add(new BreakdownEntry { RuleId = line.RuleId, Points = line.Points, Reason = line.Reason });
            ruleIds[i] = line.RuleId;
        }

        var changes = new StateChanges();
        var increments = new List<KeyValuePair<string, long>>(outcome.CounterDeltas.Count + 2)
        {
            new(MemberFields.LifetimeSpend, outcome.SpendMinor),
            new(MemberFields.Purchases, 1),
        };
        foreach (var (key, delta) in outcome.CounterDeltas)
        {
            increments.Add(new(key, delta));
            changes.Increments[key] = changes.Increments.GetValueOrDefault(key) + delta;
        }

        var sets = new List<KeyValuePair<string, string>>(1 + outcome.CounterSets.Count) { new(MemberFields.Tier, outcome.TierAfter.Id) };
        changes.Sets[MemberFields.Tier] = outcome.TierAfter.Id;
        foreach (var (key, value) in outcome.CounterSets)
        {
            var text = value.ToString(CultureInfo.InvariantCulture);
            sets.Add(new(key, text));
            changes.Sets[key] = text;
        }

        var entry = NewEntry(outcome.PointsEarned, recordedAtMs, outcome.TierAfter.Id, balance);
        entry.SpendMinor = outcome.SpendMinor;
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        entry.RuleIds = string.Join(',', ruleIds);
        entry.Changes = changes;
        List<CampaignAward>? draws = null;
        foreach (var award in outcome.CampaignAwards)
        {
            entry.CampaignDraws.Add(new CampaignDraw { CampaignId = award.CampaignId, Points = award.Points });
            if (Program.FindCampaign(award.CampaignId)?.Budget is not null)
            {
                (draws ??= []).Add(award);
            }
        }

        if (outcome.ReferrerReward is { } reward)
        {
            entry.ReferrerId = reward.ReferrerId;
            entry.ReferrerPoints = reward.Points;
        }

        return Complete(response, entry, outcome.PointsEarned, increments, sets, outcome.StaleCounters, draws);
    }

    public override void MarkReplayed(ScoreResponse response) => response.Replayed = true;

    public override void Observe(PreparedTransaction<ScoreResponse> prepared)
    {
        var response = prepared.Response;
        var channel = ChannelLabels.Of(request.Channel);
        var (scored, issued) = metrics.Scoring(channel, response.Tier);
        scored.Inc();
        issued.Inc(response.PointsEarned);
        metrics.SpendMinor.WithLabels(channel).Inc(response.SpendMinor);
        if (response.PreviousTier != response.Tier)
        {
            metrics.TierUpgrades.WithLabels(response.Tier).Inc();
        }

        foreach (var line in response.Breakdown)
        {
            metrics.RulePoints.WithLabels(line.RuleId).Inc(line.Points);
            if (line.RuleId.Contains('@', StringComparison.Ordinal))
            {
                metrics.ObjectiveSteps.WithLabels(line.RuleId).Inc();
            }
            else if (line.RuleId == LoyaltyProgram.ReferralRuleId)
            {
                metrics.ReferralsRewarded.Inc();
            }
        }
    }
}
