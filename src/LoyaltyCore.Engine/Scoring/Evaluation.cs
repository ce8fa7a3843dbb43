using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// The working state of one purchase's evaluation. Every award goes through <see cref="Award"/>, which applies the
/// caps in one place: per transaction, per member per day, per member per campaign and the campaign's budget.
/// </summary>
public sealed class Evaluation
{
    private readonly List<BreakdownLine> _breakdown = new(8);
    private readonly bool[] _eligible;
    private readonly long[]? _campaignPoints;
    private readonly IReadOnlyDictionary<string, long>? _budgetLimits;
    private long _transactionRemaining;
    private long _dailyRemaining;

    internal Evaluation(LoyaltyProgram program, MemberState member, Basket basket, DateTime localTime, Tier tierBefore, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        Program = program;
        Member = member;
        Basket = basket;
        LocalTime = localTime;
        TierBefore = tierBefore;
        _budgetLimits = budgetLimits;
        _campaignPoints = program.Campaigns.Count == 0 ? null : new long[program.Campaigns.Count];
        _transactionRemaining = program.Caps.PerTransaction ?? long.MaxValue;
        _dailyRemaining = program.Caps.PerMemberPerDay is { } daily && program.DailyCounterKey(localTime) is { } dailyKey
            ? Math.Max(0, daily - member.Counter(dailyKey))
            : long.MaxValue;

        var lines = basket.Lines;
        _eligible = new bool[lines.Count];
        long eligible = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!program.IsExcluded(lines[i]))
            {
                _eligible[i] = true;
                eligible += lines[i].TotalMinor;
            }
        }

        EligibleSpendMinor = eligible;
    }

    public LoyaltyProgram Program { get; }

    public MemberState Member { get; }

    public Basket Basket { get; }

    /// <summary>When the purchase happened, on the program's local clock.</summary>
    public DateTime LocalTime { get; }

    /// <summary>The tier whose benefits apply: the one held when the purchase started (after any due review).</summary>
    public Tier TierBefore { get; }

    /// <summary>Spend on lines that earn (exclusions removed), in minor units.</summary>
    public long EligibleSpendMinor { get; }

    public long TotalPoints { get; private set; }

    internal bool Stopped { get; set; }

    internal IReadOnlyList<BreakdownLine> Breakdown => _breakdown;

    public bool IsEligible(int line) => _eligible[line];

    public long EligibleSpendOf(LineFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        long spend = 0;
        var lines = Basket.Lines;
        for (var i = 0; i < lines.Count; i++)
        {
            if (_eligible[i] && filter.Matches(lines[i]))
            {
                spend += lines[i].TotalMinor;
            }
        }

        return spend;
    }

    internal long CampaignPoints(Campaign campaign) => _campaignPoints![campaign.Index];

    /// <summary>Awards points, reduced to what the caps still allow; the line says which cap cut it.</summary>
    public long Award(string ruleId, long points, string reason, Campaign? campaign = null)
    {
        if (points <= 0)
        {
            return 0;
        }

        var granted = points;
        string? limit = null;
        if (_transactionRemaining < granted)
        {
            granted = _transactionRemaining;
            limit = "per-transaction cap";
        }

        if (_dailyRemaining < granted)
        {
            granted = _dailyRemaining;
            limit = "daily cap";
        }

        if (campaign is not null)
        {
            var earned = _campaignPoints![campaign.Index];
            if (campaign.PerMemberCap is { } cap && cap - Member.Counter(Program.CampaignCounterKey(campaign)) - earned < granted)
            {
                granted = Math.Max(0, cap - Member.Counter(Program.CampaignCounterKey(campaign)) - earned);
                limit = "campaign cap per member";
            }

            if (_budgetLimits is not null && _budgetLimits.TryGetValue(campaign.Id, out var budget) && budget - earned < granted)
            {
                granted = Math.Max(0, budget - earned);
                limit = "campaign budget";
            }

            _campaignPoints[campaign.Index] = earned + granted;
        }

        _transactionRemaining -= granted;
        if (_dailyRemaining != long.MaxValue)
        {
            _dailyRemaining -= granted;
        }

        TotalPoints = checked(TotalPoints + granted);
        _breakdown.Add(new BreakdownLine(ruleId, granted, limit is null ? reason : $"{reason} (limited by the {limit})"));
        return granted;
    }
}
