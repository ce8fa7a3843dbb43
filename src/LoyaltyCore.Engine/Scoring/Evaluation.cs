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
    // Working arrays reused by each evaluation on a thread; the outcome gets an exact-size copy of the breakdown.
    [ThreadStatic]
    private static Buffers? t_buffers;

    private readonly Buffers _buffers;
    private int _breakdownCount;
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
        _buffers = t_buffers ?? new Buffers();
        t_buffers = null;
        _buffers.Reset(program.Campaigns.Count, basket.Lines.Count);
        _transactionRemaining = program.Caps.PerTransaction ?? long.MaxValue;
        Keys = program.PeriodKeys(localTime);
        _dailyRemaining = program.Caps.PerMemberPerDay is { } daily && Keys.DailyPoints is { } dailyKey
            ? Math.Max(0, daily - member.Counter(dailyKey))
            : long.MaxValue;

        var lines = basket.Lines;
        var eligibleLines = _buffers.Eligible;
        long eligible = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!program.IsExcluded(lines[i]))
            {
                eligibleLines[i] = true;
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

    internal PeriodCounterKeys Keys { get; }

    public bool IsEligible(int line) => (uint)line < (uint)Basket.Lines.Count && _buffers.Eligible[line];

    public long EligibleSpendOf(LineFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        long spend = 0;
        var lines = Basket.Lines;
        var eligible = _buffers.Eligible;
        for (var i = 0; i < lines.Count; i++)
        {
            if (eligible[i] && filter.Matches(lines[i]))
            {
                spend += lines[i].TotalMinor;
            }
        }

        return spend;
    }

    internal long CampaignPoints(Campaign campaign) => _buffers.CampaignPoints[campaign.Index];

    /// <summary>
    /// Ends the evaluation: the lines awarded as an exact-size array. The working arrays go back to the thread, so
    /// nothing may be read from this evaluation afterwards.
    /// </summary>
    internal BreakdownLine[] Complete()
    {
        var used = _buffers.Lines.AsSpan(0, _breakdownCount);
        var lines = used.ToArray();
        used.Clear();
        t_buffers = _buffers;
        return lines;
    }

    /// <summary>
    /// Awards points on the basket's eligible lines (those <paramref name="lines"/> matches, or all): what the caps
    /// allow is shared among them in proportion to their spend (<see cref="Share"/>), so a return of a line takes back
    /// exactly what it earned.
    /// </summary>
    /// <param name="requiredSpendMinor">The eligible basket spend the award needed, kept for returns.</param>
    /// <param name="requiredLinesSpendMinor">The spend of its own lines it needed, kept for returns.</param>
    public long AwardOnLines(string ruleId, long points, string reason, LineFilter? lines, Campaign? campaign = null, long requiredSpendMinor = 0, long requiredLinesSpendMinor = 0)
    {
        var granted = Award(ruleId, points, reason, campaign);
        if (granted > 0)
        {
            ref var awarded = ref _buffers.Lines[_breakdownCount - 1];
            awarded = awarded with { Lines = Share(granted, lines), RequiredSpendMinor = requiredSpendMinor, RequiredLinesSpendMinor = requiredLinesSpendMinor };
        }

        return granted;
    }

    /// <summary>
    /// Splits points among the eligible lines <paramref name="filter"/> matches (all when null) in proportion to their
    /// spend: each line gets the floor of its exact share, and the points left over go one each to the lines with the
    /// largest remainders (the earlier line first on a tie). Null when no such line has any spend.
    /// </summary>
    internal LineShare[]? Share(long points, LineFilter? filter)
    {
        var lines = Basket.Lines;
        var eligible = _buffers.Eligible;
        // The lines acted on, by index, matched once; both working arrays are the thread's, sized for the basket.
        var acted = _buffers.Acted;
        long weight = 0;
        var count = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            if (eligible[i] && lines[i].TotalMinor > 0 && (filter is null || filter.Matches(lines[i])))
            {
                weight += lines[i].TotalMinor;
                acted[count++] = i;
            }
        }

        if (count == 0)
        {
            return null;
        }

        var shares = new LineShare[count];
        var remainders = _buffers.Remainders;
        long given = 0;
        for (var s = 0; s < count; s++)
        {
            var i = acted[s];
            var total = lines[i].TotalMinor;
            long share, remainder;
            if (points <= long.MaxValue / total)
            {
                (share, remainder) = Math.DivRem(points * total, weight);
            }
            else
            {
                // Beyond 64 bits only for sums no real basket reaches; exact all the same.
                var exact = (Int128)points * total;
                share = (long)(exact / weight);
                remainder = (long)(exact % weight);
            }

            shares[s] = new LineShare(i, share);
            remainders[s] = remainder;
            given += share;
        }

        for (var left = points - given; left > 0; left--)
        {
            var best = 0;
            for (var j = 1; j < count; j++)
            {
                if (remainders[j] > remainders[best])
                {
                    best = j;
                }
            }

            shares[best] = shares[best] with { Points = shares[best].Points + 1 };
            remainders[best] = -1;
        }

        return shares;
    }

    /// <summary>
    /// Awards points on the basket as a whole (a bonus, an objective step), reduced to what the caps still allow;
    /// <paramref name="requiredSpendMinor"/> is the eligible spend it needed (or the value <paramref name="counter"/>
    /// had to reach), kept for returns.
    /// </summary>
    public long AwardOnBasket(string ruleId, long points, string reason, long requiredSpendMinor, Campaign? campaign = null, string? counter = null)
    {
        var granted = Award(ruleId, points, reason, campaign);
        if (granted > 0)
        {
            ref var awarded = ref _buffers.Lines[_breakdownCount - 1];
            awarded = awarded with { RequiredSpendMinor = requiredSpendMinor, RequiredCounter = counter };
        }

        return granted;
    }

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
            var earned = _buffers.CampaignPoints[campaign.Index];
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

            _buffers.CampaignPoints[campaign.Index] = earned + granted;
        }

        _transactionRemaining -= granted;
        if (_dailyRemaining != long.MaxValue)
        {
            _dailyRemaining -= granted;
        }

        TotalPoints = checked(TotalPoints + granted);
        if (_breakdownCount == _buffers.Lines.Length)
        {
            _buffers.Lines = [.. _buffers.Lines, .. new BreakdownLine[_buffers.Lines.Length]];
        }

        _buffers.Lines[_breakdownCount++] = new BreakdownLine(ruleId, granted, limit is null ? reason : $"{reason} (limited by the {limit})", CampaignId: campaign?.Id);
        return granted;
    }

    private sealed class Buffers
    {
        public BreakdownLine[] Lines { get; set; } = new BreakdownLine[32];

        public long[] CampaignPoints { get; private set; } = [];

        public bool[] Eligible { get; private set; } = new bool[16];

        /// <summary>Line indexes an award acts on (<see cref="Share"/>).</summary>
        public int[] Acted { get; private set; } = new int[16];

        /// <summary>What is left of each share's exact value (<see cref="Share"/>).</summary>
        public long[] Remainders { get; private set; } = new long[16];

        public void Reset(int campaigns, int lines)
        {
            if (CampaignPoints.Length < campaigns)
            {
                CampaignPoints = new long[campaigns];
            }
            else
            {
                Array.Clear(CampaignPoints, 0, campaigns);
            }

            if (Eligible.Length < lines)
            {
                Eligible = new bool[lines];
                Acted = new int[lines];
                Remainders = new long[lines];
            }
            else
            {
                Array.Clear(Eligible, 0, lines);
            }
        }
    }
}
