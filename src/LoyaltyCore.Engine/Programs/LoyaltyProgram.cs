using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Programs;

/// <summary>
/// An activated, immutable program version: rules compiled once, evaluated for every purchase without parsing
/// or reflection. A request holds one instance from start to end, so it never sees a mix of versions.
/// </summary>
public sealed class LoyaltyProgram
{
    private readonly IEarnRule[] _rules;

    internal LoyaltyProgram(string id, string version, string currency, int currencyExponent, bool autoEnroll, TierLadder tiers, IEarnRule[] rules)
    {
        Id = id;
        Version = version;
        Currency = currency;
        CurrencyExponent = currencyExponent;
        AutoEnroll = autoEnroll;
        Tiers = tiers;
        _rules = rules;
    }

    public string Id { get; }

    public string Version { get; }

    public string Currency { get; }

    public int CurrencyExponent { get; }

    public bool AutoEnroll { get; }

    public TierLadder Tiers { get; }

    public IReadOnlyList<IEarnRule> Rules => _rules;

    public ScoreOutcome Score(in MemberState member, Basket basket)
    {
        ArgumentNullException.ThrowIfNull(basket);
        var tierBefore = Tiers.Resolve(member.Tier, member.LifetimeSpendMinor);
        var evaluation = new Evaluation(this, member, tierBefore, basket);
        foreach (var rule in _rules)
        {
            rule.Apply(evaluation);
        }

        var lifetimeAfter = checked(member.LifetimeSpendMinor + basket.TotalMinor);
        var tierAfter = Tiers.AfterSpend(tierBefore, lifetimeAfter);
        return new ScoreOutcome(
            evaluation.TotalPoints,
            evaluation.Breakdown,
            basket.TotalMinor,
            tierBefore,
            tierAfter,
            Tiers.ProgressFrom(tierAfter, lifetimeAfter));
    }
}
