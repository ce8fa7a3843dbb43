using System.Globalization;

namespace LoyaltyCore.Engine.Scoring.Rules;

/// <summary>
/// The tier's multiplier on base points, reported as its own breakdown line: the bonus is
/// <c>round(base x (multiplier - 1))</c>, so base + bonus always add up to the total shown.
/// </summary>
public sealed class TierMultiplierRule(string id, RoundingMode rounding) : IEarnRule
{
    private const int OneBasisPoints = 10_000;

    public string Id { get; } = id;

    public void Apply(Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var tier = evaluation.TierBefore;
        var extraBasisPoints = tier.MultiplierBasisPoints - OneBasisPoints;
        if (extraBasisPoints == 0 || evaluation.BasePoints == 0)
        {
            return;
        }

        var bonus = Rounding.Divide((Int128)evaluation.BasePoints * extraBasisPoints, OneBasisPoints, rounding);
        evaluation.Award(Id, bonus, string.Create(
            CultureInfo.InvariantCulture,
            $"{tier.Name} tier x{tier.MultiplierBasisPoints / (decimal)OneBasisPoints:0.####} on {evaluation.BasePoints} base pts"));
    }
}
