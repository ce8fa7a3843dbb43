using System.Globalization;

namespace LoyaltyCore.Engine.Scoring.Rules;

/// <summary>Points per currency amount on the whole basket: <c>round(spend x points / perMinor)</c>.</summary>
public sealed class BaseEarnRule(string id, long points, long perMinor, RoundingMode rounding, int currencyExponent, string currency) : IEarnRule
{
    private readonly string _rateText = string.Create(
        CultureInfo.InvariantCulture,
        $"{points} pt per {FormatMoney(perMinor, currencyExponent)} {currency}");

    public string Id { get; } = id;

    public long Points { get; } = points;

    public long PerMinor { get; } = perMinor;

    public RoundingMode Rounding { get; } = rounding;

    public void Apply(Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        var spend = evaluation.Basket.TotalMinor;
        var earned = Scoring.Rounding.Divide((Int128)spend * Points, PerMinor, Rounding);
        evaluation.BasePoints = earned;
        evaluation.Award(Id, earned, string.Create(
            CultureInfo.InvariantCulture,
            $"{_rateText} on {FormatMoney(spend, currencyExponent)} {currency}"));
    }

    internal static string FormatMoney(long minor, int exponent)
    {
        if (exponent == 0)
        {
            return minor.ToString(CultureInfo.InvariantCulture);
        }

        var scale = (long)Math.Pow(10, exponent);
        var whole = Math.DivRem(Math.Abs(minor), scale, out var fraction);
        var sign = minor < 0 ? "-" : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{sign}{whole}.{fraction.ToString(new string('0', exponent), CultureInfo.InvariantCulture)}");
    }
}
