using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// One mechanic of a program. Rules are compiled once when a program is activated and evaluated in
/// program order for every purchase; each reports what it awarded into the evaluation.
/// </summary>
public interface IEarnRule
{
    string Id { get; }

    void Apply(Evaluation evaluation);
}

/// <summary>The working state of one purchase's evaluation, shared by the rules in order.</summary>
public sealed class Evaluation
{
    private readonly List<BreakdownLine> _breakdown = new(4);

    internal Evaluation(LoyaltyProgram program, in MemberState member, Tier tierBefore, Basket basket)
    {
        Program = program;
        Member = member;
        TierBefore = tierBefore;
        Basket = basket;
    }

    public LoyaltyProgram Program { get; }

    public MemberState Member { get; }

    /// <summary>The tier whose benefits apply: the one the member held when the purchase started.</summary>
    public Tier TierBefore { get; }

    public Basket Basket { get; }

    /// <summary>Points from the base earn rate, before any multiplier. Multiplier rules build on it.</summary>
    public long BasePoints { get; internal set; }

    public long TotalPoints { get; private set; }

    internal IReadOnlyList<BreakdownLine> Breakdown => _breakdown;

    public void Award(string ruleId, long points, string reason)
    {
        if (points == 0)
        {
            return;
        }

        TotalPoints = checked(TotalPoints + points);
        _breakdown.Add(new BreakdownLine(ruleId, points, reason));
    }
}
