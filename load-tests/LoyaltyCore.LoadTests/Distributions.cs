namespace LoyaltyCore.LoadTests;

/// <summary>
/// Draws index k of 0..n-1 with probability proportional to a weight, by binary search over the cumulative
/// weights: exact, O(log n) per draw, no allocation. Built once and shared by every worker (read only).
/// </summary>
internal sealed class DiscreteDistribution
{
    private readonly double[] _cumulative;

    private DiscreteDistribution(double[] cumulative) => _cumulative = cumulative;

    public int Count => _cumulative.Length;

    /// <summary>Rank r (0-based) has weight 1 / (r + 1)^s: s = 1 is the classic Zipf law, s = 0 uniform.</summary>
    public static DiscreteDistribution Zipf(int count, double exponent) =>
        FromWeights(count, rank => 1.0 / Math.Pow(rank + 1, exponent));

    public static DiscreteDistribution FromWeights(int count, Func<int, double> weight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var cumulative = new double[count];
        var total = 0.0;
        for (var i = 0; i < count; i++)
        {
            total += weight(i);
            cumulative[i] = total;
        }

        for (var i = 0; i < count; i++)
        {
            cumulative[i] /= total;
        }

        cumulative[^1] = 1.0;
        return new DiscreteDistribution(cumulative);
    }

    /// <summary>Probability of index <paramref name="index"/>.</summary>
    public double Probability(int index) => _cumulative[index] - (index == 0 ? 0 : _cumulative[index - 1]);

    public int Sample(Random random)
    {
        var u = random.NextDouble();
        var index = Array.BinarySearch(_cumulative, u);
        // Not found: the complement of the first element larger than u, which is the bucket u falls in.
        return index >= 0 ? index : Math.Min(~index, _cumulative.Length - 1);
    }
}
