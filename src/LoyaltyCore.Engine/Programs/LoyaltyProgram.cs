using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Programs;

/// <summary>The compiled parts of a program, as <see cref="ProgramParser"/> produces them.</summary>
internal sealed record ProgramParts(
    string Id,
    string Version,
    string Currency,
    int CurrencyExponent,
    TimeZoneInfo TimeZone,
    bool AutoEnroll,
    long EarnPoints,
    long EarnPerMinor,
    RoundingMode Rounding,
    long EarnMinimumSpend,
    IReadOnlySet<string> ExcludedCategories,
    IReadOnlySet<string> ExcludedSkus,
    LabelSelector? ExcludedLabels,
    Caps Caps,
    TierPolicy TierPolicy,
    IReadOnlyList<MembershipPlan> Memberships,
    IReadOnlyList<Rule> Rules,
    IReadOnlyList<Campaign> Campaigns,
    IReadOnlyList<Objective> Objectives,
    ReferralPolicy? Referral,
    IReadOnlyList<PeriodUnit> NthPurchaseUnits,
    IReadOnlySet<string> DeclaredEvents,
    NegativeBalancePolicy ReturnsNegativeBalance = NegativeBalancePolicy.Allow)
{
    public ExpiryPolicy Expiry { get; init; } = ExpiryPolicy.Never;

    public RewardCatalogue Rewards { get; init; } = RewardCatalogue.Empty;
}

/// <summary>What a return does when the points it takes back have already been spent.</summary>
public enum NegativeBalancePolicy
{
    /// <summary>The balance goes below zero; later earnings repay it.</summary>
    Allow,

    /// <summary>It takes back what is available and records the rest as written off.</summary>
    Clamp,
}

/// <summary>
/// An activated, immutable program version: every rule compiled once, evaluated per purchase without parsing or
/// reflection. A request holds one instance from start to end, so it never sees a mix of versions.
/// </summary>
/// <remarks>
/// Evaluation order (the stacking rules, identical for the same program, member state and basket):
/// exclusions; base earn; the tier's multiplier; the membership's multiplier; program rules then campaign rules in
/// document order (a firing rule with <c>stop</c> ends this step); objective steps; the referral welcome. Multipliers
/// add (each contributes <c>(factor - 1) x base</c> on its lines). Caps apply as points are awarded, in that order.
/// </remarks>
public sealed class LoyaltyProgram
{
    public const string BaseEarnRuleId = "base-earn";
    public const string ReferralRuleId = "referral";
    private const int OneBasisPoints = 10_000;

    private readonly ProgramParts _parts;
    private readonly Rule[] _rules;
    private readonly Rule[] _purchaseRules;
    private readonly Dictionary<string, EventRule[]> _eventRules;
    private readonly Campaign[] _campaignList;
    private readonly PeriodUnit[] _nthUnits;
    private readonly string[] _campaignCounterKeys;
    private readonly Dictionary<string, MembershipPlan> _memberships;
    private readonly Dictionary<string, Campaign> _campaigns;
    private readonly string _baseReason;
    private readonly string[] _tierRuleIds;
    private readonly string[] _tierReasons;
    private PeriodCounterKeys? _periodKeys;

    // Per-thread lists reused across evaluations; the outcome gets exact-size copies.
    [ThreadStatic]
    private static Scratch? t_scratch;

    internal LoyaltyProgram(ProgramParts parts)
    {
        _parts = parts;
        _rules = [.. parts.Rules];
        _purchaseRules = [.. parts.Rules.Where(r => r is not EventRule)];
        _eventRules = parts.Rules.OfType<EventRule>().GroupBy(r => r.EventName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _campaignList = [.. parts.Campaigns];
        _nthUnits = [.. parts.NthPurchaseUnits];
        _campaignCounterKeys = parts.Campaigns.Select(c => CounterKeys.CampaignPoints(c.Id)).ToArray();
        _memberships = parts.Memberships.ToDictionary(m => m.Id, StringComparer.Ordinal);
        _campaigns = parts.Campaigns.ToDictionary(c => c.Id, StringComparer.Ordinal);
        Calendar = new ProgramCalendar(parts.TimeZone);
        _baseReason = $"{parts.EarnPoints} pt per {Money.Format(parts.EarnPerMinor, parts.CurrencyExponent)} {parts.Currency} spent";
        _tierRuleIds = parts.TierPolicy.Ladder.Tiers.Select(t => "tier:" + t.Id).ToArray();
        _tierReasons = parts.TierPolicy.Ladder.Tiers.Select(t => $"{t.Name} tier x{Multiplier.Format(t.MultiplierBasisPoints)}").ToArray();
    }

    public string Id => _parts.Id;

    public string Version => _parts.Version;

    public string Currency => _parts.Currency;

    public int CurrencyExponent => _parts.CurrencyExponent;

    public bool AutoEnroll => _parts.AutoEnroll;

    /// <summary><c>returns.negativeBalance</c>: what a return does when the points it takes back were spent.</summary>
    public NegativeBalancePolicy ReturnsNegativeBalance => _parts.ReturnsNegativeBalance;

    /// <summary>How long the points earned under this version live.</summary>
    public ExpiryPolicy Expiry => _parts.Expiry;

    public RewardCatalogue Rewards => _parts.Rewards;

    /// <summary>
    /// What a return gives back in the member's counters, for a purchase made at <paramref name="purchasedAt"/>: the
    /// points and spend it takes back come off that day's points (the daily cap), each campaign's points (its cap per
    /// member), the tier's qualifying value where the program keeps it, and the year's spend (objectives); never below
    /// what the counter holds, and counters already dropped as past are left alone. The count since the last tier
    /// change is not given back.
    /// </summary>
    public List<KeyValuePair<string, long>> ReturnCounterDeltas(MemberState member, DateTimeOffset purchasedAt, long spendMinor, long points, IReadOnlyList<CampaignAward> campaignPoints)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(campaignPoints);
        var deltas = new List<KeyValuePair<string, long>>();
        void Take(string key, long amount)
        {
            if (amount > 0 && member.Counters.TryGetValue(key, out var value) && value > 0)
            {
                deltas.Add(new(key, -Math.Min(value, amount)));
            }
        }

        var keys = PeriodKeys(Calendar.LocalTime(purchasedAt));
        if (keys.DailyPoints is { } daily)
        {
            Take(daily, points);
        }

        foreach (var award in campaignPoints)
        {
            if (FindCampaign(award.CampaignId) is { } campaign)
            {
                Take(CampaignCounterKey(campaign), award.Points);
            }
        }

        var metric = TierPolicy.MetricOf(spendMinor, points);
        if (TierPolicy.UsesMonthlyBuckets)
        {
            Take(CounterKeys.QualifyingMonth(keys.MonthKey), metric);
        }
        else if (TierPolicy.Metric == QualificationMetric.Points && TierPolicy.Period != QualificationPeriod.SinceLastTierChange)
        {
            Take(CounterKeys.LifetimePoints, points);
        }

        // The count since the last tier change is left alone: it may have restarted since the purchase, and what it
        // holds is then none of the purchase's.
        if (_parts.Objectives.Count > 0)
        {
            Take(keys.YearSpend, spendMinor);
        }

        return deltas;
    }

    /// <summary>The counter that says an objective step (by its rule id) fired in the year of <paramref name="at"/>; null for another rule.</summary>
    public string? ObjectiveStepCounter(string ruleId, DateTimeOffset at)
    {
        for (var o = 0; o < _parts.Objectives.Count; o++)
        {
            var steps = _parts.Objectives[o].Steps;
            for (var s = 0; s < steps.Count; s++)
            {
                if (string.Equals(steps[s].RuleId, ruleId, StringComparison.Ordinal))
                {
                    return PeriodKeys(Calendar.LocalTime(at)).ObjectiveStep(o, s);
                }
            }
        }

        return null;
    }

    public ProgramCalendar Calendar { get; }

    public TierPolicy TierPolicy => _parts.TierPolicy;

    public TierLadder Tiers => _parts.TierPolicy.Ladder;

    public Caps Caps => _parts.Caps;

    public IReadOnlyList<Rule> Rules => _rules;

    /// <summary>Custom event names the program declares (<c>events</c>), beyond <see cref="EventNames.Standard"/>.</summary>
    public IReadOnlySet<string> DeclaredEvents => _parts.DeclaredEvents;

    /// <summary>Whether any rule of the program gives points for this event.</summary>
    public bool HasEventRules(string eventName) => _eventRules.ContainsKey(eventName);

    /// <summary>Whether <c>RecordEvent</c> accepts this name: a standard event or one the program declares.</summary>
    public bool IsRecordableEvent(string name) => EventNames.Standard.Contains(name) || _parts.DeclaredEvents.Contains(name);

    public IReadOnlyList<Campaign> Campaigns => _parts.Campaigns;

    public IReadOnlyList<Objective> Objectives => _parts.Objectives;

    public IReadOnlyList<MembershipPlan> Memberships => _parts.Memberships;

    public ReferralPolicy? Referral => _parts.Referral;

    public MembershipPlan? FindMembership(string id) => _memberships.GetValueOrDefault(id);

    public Campaign? FindCampaign(string id) => _campaigns.GetValueOrDefault(id);

    /// <summary>
    /// The total of a budget shared by all members, by its id: a campaign's points, or a reward's stock in units
    /// (<see cref="Reward.StockId"/>); null when this version has no such budget.
    /// </summary>
    public long? BudgetTotal(string id) =>
        id.StartsWith(Reward.StockPrefix, StringComparison.Ordinal)
            ? _parts.Rewards.Find(id[Reward.StockPrefix.Length..])?.Stock
            : FindCampaign(id)?.Budget;

    public bool IsExcluded(in BasketLine line) =>
        _parts.ExcludedCategories.Contains(line.Category) || _parts.ExcludedSkus.Contains(line.Sku)
        || (_parts.ExcludedLabels is { } labels && labels.MatchesAny(line));

    /// <summary>Points at the base rate: <c>round(spend x points / perMinor)</c>.</summary>
    public long BasePoints(long spendMinor) =>
        Rounding.Divide((Int128)spendMinor * _parts.EarnPoints, _parts.EarnPerMinor, _parts.Rounding);

    /// <summary>What a multiplier adds over the base rate: <c>round(spend x points x (factor - 1) / perMinor)</c>, rounded once.</summary>
    public long ExtraPoints(long spendMinor, int factorBasisPoints) =>
        Rounding.Divide((Int128)spendMinor * _parts.EarnPoints * (factorBasisPoints - OneBasisPoints), (Int128)_parts.EarnPerMinor * OneBasisPoints, _parts.Rounding);

    internal string CampaignCounterKey(Campaign campaign) => _campaignCounterKeys[campaign.Index];

    /// <summary>The counter keys of <paramref name="local"/>'s date, built on the first evaluation of each date.</summary>
    internal PeriodCounterKeys PeriodKeys(DateTime local)
    {
        var keys = Volatile.Read(ref _periodKeys);
        if (keys is null || keys.Date != local.Date)
        {
            keys = new PeriodCounterKeys(local, _parts.Caps.PerMemberPerDay is not null, _parts.NthPurchaseUnits, _parts.Objectives);
            Volatile.Write(ref _periodKeys, keys);
        }

        return keys;
    }

    /// <param name="budgetLimits">Points each campaign may still award in total; campaigns absent from it are unlimited.</param>
    public ScoreOutcome Score(MemberState member, Basket basket, IReadOnlyDictionary<string, long>? budgetLimits = null)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(basket);
        var local = Calendar.LocalTime(basket.OccurredAt);
        var (tierBefore, reviewApplied) = TierPolicy.Current(member, local);
        var evaluation = new Evaluation(this, member, basket, local, tierBefore, budgetLimits);
        var eligible = evaluation.EligibleSpendMinor;

        // Below the base rate's minimum spend there is no base to earn, so neither is there a tier or membership
        // multiple of it; rules still run.
        if (eligible >= _parts.EarnMinimumSpend)
        {
            evaluation.AwardOnLines(BaseEarnRuleId, BasePoints(eligible), _baseReason, null, requiredSpendMinor: _parts.EarnMinimumSpend);
            if (tierBefore.MultiplierBasisPoints != OneBasisPoints)
            {
                evaluation.AwardOnLines(_tierRuleIds[tierBefore.Rank], ExtraPoints(eligible, tierBefore.MultiplierBasisPoints), _tierReasons[tierBefore.Rank], null, requiredSpendMinor: _parts.EarnMinimumSpend);
            }

            if (member.Membership is { } membershipId && _memberships.TryGetValue(membershipId, out var plan)
                && member.HasMembershipAt(plan.Id, basket.OccurredAt) && plan.MultiplierBasisPoints != OneBasisPoints)
            {
                evaluation.AwardOnLines(plan.RuleId, ExtraPoints(eligible, plan.MultiplierBasisPoints), plan.Reason, null, requiredSpendMinor: _parts.EarnMinimumSpend);
            }
        }

        foreach (var rule in _purchaseRules)
        {
            if (evaluation.Stopped)
            {
                break;
            }

            if ((rule.Campaign is { } campaign && !campaign.IsLive(evaluation)) || (rule.When is { } when && !when.Matches(evaluation)))
            {
                continue;
            }

            var wanted = rule.Points(evaluation);
            if (wanted <= 0)
            {
                continue;
            }

            rule.Award(evaluation, wanted);
            evaluation.Stopped = rule.Stop;
        }

        var scratch = t_scratch ?? new Scratch();
        t_scratch = null;
        var counters = scratch.Counters;
        AwardObjectives(member, basket, local, evaluation, counters);
        var referrerReward = AwardReferral(member, evaluation, counters);

        var points = evaluation.TotalPoints;
        var spend = basket.TotalMinor;
        var reset = TierPolicy.PointsResetBy(member, reviewApplied);
        var qualifyingAfter = checked(QualifyingBefore(member, local, reset) + TierPolicy.MetricOf(spend, points));
        var tierAfter = TierPolicy.After(member, local, tierBefore, qualifyingAfter);
        AwardTierReached(member, evaluation, tierAfter, local, counters);

        CountPoints(member, evaluation, spend, evaluation.TotalPoints, tierAfter, counters, purchase: true);
        return Complete(member, evaluation, scratch, reviewApplied, spend, qualifyingAfter, tierAfter, referrerReward, reset);
    }

    /// <summary>
    /// What a member event earns (<see cref="IsRecordableEvent"/> names one): the program's event rules for it, in
    /// document order, each inside its campaign, window, condition and limit, with the caps a purchase has. Points
    /// earned count for the daily cap, campaign caps and budgets, and the tier when it qualifies on points.
    /// </summary>
    public ScoreOutcome RecordEvent(MemberState member, string eventName, DateTimeOffset occurredAt, IReadOnlyDictionary<string, long>? budgetLimits = null)
    {
        ArgumentNullException.ThrowIfNull(member);
        ArgumentNullException.ThrowIfNull(eventName);
        // An event is a basket of nothing: purchase conditions (basket, channel, store) never hold for it.
        Basket.TryCreate([], Channel.Unspecified, string.Empty, occurredAt, out var nothing, out _);
        var local = Calendar.LocalTime(occurredAt);
        var (tierBefore, reviewApplied) = TierPolicy.Current(member, local);
        var evaluation = new Evaluation(this, member, nothing!, local, tierBefore, budgetLimits);
        var scratch = t_scratch ?? new Scratch();
        t_scratch = null;
        var counters = scratch.Counters;
        FireEventRules(_eventRules.GetValueOrDefault(eventName) ?? [], member, evaluation, local, counters, reached: null);

        var points = evaluation.TotalPoints;
        var reset = TierPolicy.PointsResetBy(member, reviewApplied);
        var qualifyingAfter = checked(QualifyingBefore(member, local, reset) + TierPolicy.MetricOf(0, points));
        var tierAfter = TierPolicy.After(member, local, tierBefore, qualifyingAfter);
        AwardTierReached(member, evaluation, tierAfter, local, counters);
        CountPoints(member, evaluation, 0, evaluation.TotalPoints, tierAfter, counters, purchase: false);
        return Complete(member, evaluation, scratch, reviewApplied, 0, qualifyingAfter, tierAfter, null, reset);
    }

    /// <summary>
    /// The <c>tier_reached</c> rules, when the transaction moved the member up: after everything else, outside any
    /// <c>stop</c>, through the caps. Their points do not count towards the upgrade that fired them.
    /// </summary>
    private void AwardTierReached(MemberState member, Evaluation evaluation, Tier tierAfter, DateTime local, List<KeyValuePair<string, long>> counters)
    {
        if (tierAfter.Rank > evaluation.TierBefore.Rank && _eventRules.TryGetValue(EventNames.TierReached, out var rules))
        {
            FireEventRules(rules, member, evaluation, local, counters, tierAfter);
        }
    }

    /// <param name="reached">For tier_reached rules, the tier reached; rules naming other tiers in <c>reached</c> do not fire.</param>
    private static void FireEventRules(EventRule[] rules, MemberState member, Evaluation evaluation, DateTime local, List<KeyValuePair<string, long>> counters, Tier? reached)
    {
        foreach (var rule in rules)
        {
            if ((rule.Campaign is { } campaign && !campaign.IsLive(evaluation)) || (rule.When is { } when && !when.Matches(evaluation))
                || (reached is not null && rule.Reached.Count > 0 && !rule.Reached.Contains(reached.Id)))
            {
                continue;
            }

            if (rule.Limit is { } limit)
            {
                var firings = CounterKeys.EventFirings(rule.Id, limit.Period, local);
                if (member.Counter(firings) >= limit.Count)
                {
                    continue;
                }

                counters.Add(new(firings, 1));
            }

            evaluation.Award(rule.Id, rule.Points(evaluation), rule.Reason, rule.Campaign);
            if (rule.Stop)
            {
                break;
            }
        }
    }

    private ScoreOutcome Complete(
        MemberState member,
        Evaluation evaluation,
        Scratch scratch,
        int? reviewApplied,
        long spend,
        long qualifyingAfter,
        Tier tierAfter,
        ReferrerReward? referrerReward,
        long pointsReset)
    {
        var counters = scratch.Counters;
        var restart = TierPolicy.RestartsQualification(member, tierAfter);
        var sets = TierPolicy.CountersSetBy(member, tierAfter, reviewApplied);
        var stale = scratch.Stale;
        if (member.Counters is Dictionary<string, long> dictionary)
        {
            // The concrete type's struct enumerator: no boxed enumerator per evaluation.
            foreach (var key in dictionary.Keys)
            {
                if (CounterStaleness.IsStale(key, evaluation.Keys))
                {
                    stale.Add(key);
                }
            }
        }
        else
        {
            foreach (var key in member.Counters.Keys)
            {
                if (CounterStaleness.IsStale(key, evaluation.Keys))
                {
                    stale.Add(key);
                }
            }
        }

        var awarding = 0;
        foreach (var campaign in _campaignList)
        {
            awarding += evaluation.CampaignPoints(campaign) > 0 ? 1 : 0;
        }

        var awards = awarding == 0 ? [] : new CampaignAward[awarding];
        awarding = 0;
        foreach (var campaign in _campaignList)
        {
            if (evaluation.CampaignPoints(campaign) is > 0 and var earned)
            {
                awards[awarding++] = new CampaignAward(campaign.Id, earned);
            }
        }

        var (points, eligible, tierBefore) = (evaluation.TotalPoints, evaluation.EligibleSpendMinor, evaluation.TierBefore);
        var breakdown = evaluation.Complete();
        KeyValuePair<string, long>[] deltas = [.. counters];
        string[] staleKeys = stale.Count == 0 ? [] : [.. stale];
        counters.Clear();
        stale.Clear();
        t_scratch = scratch;

        return new ScoreOutcome(
            points,
            breakdown,
            spend,
            eligible,
            tierBefore,
            tierAfter,
            Tiers.ProgressFrom(tierAfter, restart ? 0 : qualifyingAfter),
            deltas,
            sets,
            staleKeys,
            awards,
            referrerReward,
            pointsReset);
    }

    /// <summary>The qualifying value before the transaction's own; on the balance, after what a review reset took.</summary>
    private long QualifyingBefore(MemberState member, DateTime local, long reset) =>
        TierPolicy.QualifyingValue(member, local) - (TierPolicy.Metric == QualificationMetric.Balance ? reset : 0);

    private void AwardObjectives(MemberState member, Basket basket, DateTime local, Evaluation evaluation, List<KeyValuePair<string, long>> counters)
    {
        if (_parts.Objectives.Count == 0)
        {
            return;
        }

        var keys = evaluation.Keys;
        var yearToDate = checked(member.Counter(keys.YearSpend) + basket.TotalMinor);
        counters.Add(new(keys.YearSpend, basket.TotalMinor));
        if (member.ReferenceRevenueMinor <= 0)
        {
            return;
        }

        for (var o = 0; o < _parts.Objectives.Count; o++)
        {
            var steps = _parts.Objectives[o].Steps;
            for (var s = 0; s < steps.Count; s++)
            {
                var step = steps[s];
                if ((Int128)yearToDate * 100 < (Int128)member.ReferenceRevenueMinor * step.Percent)
                {
                    break;
                }

                var fired = keys.ObjectiveStep(o, s);
                if (member.Counter(fired) == 0)
                {
                    // What a return must leave of the year's spend for the step to stand: the least spend that reaches it.
                    var threshold = (long)(((Int128)member.ReferenceRevenueMinor * step.Percent + 99) / 100);
                    evaluation.AwardOnBasket(step.RuleId, step.Points, step.Reason, threshold, counter: keys.YearSpend);
                    counters.Add(new(fired, 1));
                }
            }
        }
    }

    private ReferrerReward? AwardReferral(MemberState member, Evaluation evaluation, List<KeyValuePair<string, long>> counters)
    {
        if (_parts.Referral is not { } referral || member.ReferredBy is null
            || member.Counter(CounterKeys.ReferralRewarded) != 0 || evaluation.EligibleSpendMinor < referral.MinimumSpendMinor)
        {
            return null;
        }

        evaluation.AwardOnBasket(ReferralRuleId, referral.RefereePoints, "Welcome bonus for joining through a referral", Math.Max(1, referral.MinimumSpendMinor));
        counters.Add(new(CounterKeys.ReferralRewarded, 1));
        return referral.ReferrerPoints > 0 ? new ReferrerReward(member.ReferredBy, referral.ReferrerPoints) : null;
    }

    /// <summary>
    /// The counters points and spend move, whatever earned them (daily and campaign points, the tier's metric), and
    /// for a purchase the purchase counts of its periods.
    /// </summary>
    private void CountPoints(MemberState member, Evaluation evaluation, long spend, long points, Tier tierAfter, List<KeyValuePair<string, long>> counters, bool purchase)
    {
        var keys = evaluation.Keys;
        if (points > 0 && keys.DailyPoints is { } daily)
        {
            counters.Add(new(daily, points));
        }

        foreach (var campaign in _campaignList)
        {
            var earned = evaluation.CampaignPoints(campaign);
            if (earned > 0)
            {
                counters.Add(new(CampaignCounterKey(campaign), earned));
            }
        }

        if (purchase)
        {
            foreach (var unit in _nthUnits)
            {
                counters.Add(new(keys.Purchases(unit), 1));
            }
        }

        var metric = TierPolicy.MetricOf(spend, points);
        if (TierPolicy.UsesMonthlyBuckets && metric > 0)
        {
            counters.Add(new(CounterKeys.QualifyingMonth(keys.MonthKey), metric));
        }
        else if (TierPolicy.Period == QualificationPeriod.SinceLastTierChange)
        {
            // A tier change restarts the count at zero (a set, in Complete) rather than adding to it.
            if (metric > 0 && !TierPolicy.RestartsQualification(member, tierAfter))
            {
                counters.Add(new(CounterKeys.QualifyingSinceTierChange, metric));
            }
        }
        else if (TierPolicy.Metric == QualificationMetric.Points && points > 0)
        {
            counters.Add(new(CounterKeys.LifetimePoints, points));
        }
    }

    private sealed class Scratch
    {
        public List<KeyValuePair<string, long>> Counters { get; } = new(16);

        public List<string> Stale { get; } = new(8);
    }
}

internal static class Multiplier
{
    public static string Format(int basisPoints) =>
        (basisPoints / 10_000m).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}

internal static class Money
{
    /// <summary>A positive amount of minor units in major units (<c>150</c> at exponent 2 is <c>1.50</c>).</summary>
    public static string Format(long minor, int exponent)
    {
        if (exponent == 0)
        {
            return minor.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var whole = Math.DivRem(minor, (long)Math.Pow(10, exponent), out var fraction);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{whole}.{fraction.ToString(new string('0', exponent), System.Globalization.CultureInfo.InvariantCulture)}");
    }
}
