namespace LoyaltyCore.Engine.Tiers;

/// <param name="Threshold">Qualifying value (minor units of spend, or points) from which a member holds this tier.</param>
/// <param name="MultiplierBasisPoints">10000 = x1; the tier's earn multiplier, a benefit of holding it.</param>
public sealed record Tier(string Id, string Name, long Threshold, int MultiplierBasisPoints, int Rank);

/// <param name="Remaining">Qualifying value still needed, in the program's qualification metric.</param>
public readonly record struct TierProgress(Tier NextTier, long Remaining, long QualifyingValue);

/// <summary>Tiers ordered by threshold; the first one (threshold 0) is where every member starts.</summary>
public sealed class TierLadder
{
    private readonly Tier[] _tiers;
    private readonly Dictionary<string, Tier> _byId;

    public TierLadder(IReadOnlyList<Tier> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (tiers.Count == 0 || tiers[0].Threshold != 0)
        {
            throw new ArgumentException("The first tier must start at a threshold of 0.", nameof(tiers));
        }

        _tiers = [.. tiers];
        _byId = _tiers.ToDictionary(t => t.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<Tier> Tiers => _tiers;

    public Tier Entry => _tiers[0];

    public Tier ForValue(long qualifyingValue)
    {
        var tier = _tiers[0];
        for (var i = 1; i < _tiers.Length && _tiers[i].Threshold <= qualifyingValue; i++)
        {
            tier = _tiers[i];
        }

        return tier;
    }

    public Tier? Find(string? id) => id is not null && _byId.TryGetValue(id, out var tier) ? tier : null;

    public static Tier Higher(Tier a, Tier b) => a.Rank >= b.Rank ? a : b;

    public TierProgress? ProgressFrom(Tier current, long qualifyingValue)
    {
        if (current.Rank + 1 >= _tiers.Length)
        {
            return null;
        }

        var next = _tiers[current.Rank + 1];
        return new TierProgress(next, Math.Max(0, next.Threshold - qualifyingValue), qualifyingValue);
    }
}
