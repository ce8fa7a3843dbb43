namespace LoyaltyCore.Engine.Tiers;

/// <param name="MultiplierBasisPoints">10000 = x1; the member's earn on base points while in this tier.</param>
public sealed record Tier(string Id, string Name, long ThresholdMinor, int MultiplierBasisPoints);

public readonly record struct TierProgress(Tier NextTier, long SpendToNextTierMinor);

/// <summary>Tiers ordered by lifetime-spend threshold; the first one (threshold 0) is where every member starts.</summary>
public sealed class TierLadder
{
    private readonly Tier[] _tiers;
    private readonly Dictionary<string, int> _rankById;

    public TierLadder(IReadOnlyList<Tier> tiers)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        if (tiers.Count == 0 || tiers[0].ThresholdMinor != 0)
        {
            throw new ArgumentException("The first tier must start at a threshold of 0.", nameof(tiers));
        }

        _tiers = [.. tiers];
        _rankById = new Dictionary<string, int>(_tiers.Length, StringComparer.Ordinal);
        for (var i = 0; i < _tiers.Length; i++)
        {
            if (i > 0 && _tiers[i].ThresholdMinor <= _tiers[i - 1].ThresholdMinor)
            {
                throw new ArgumentException("Tier thresholds must increase strictly.", nameof(tiers));
            }

            _rankById.Add(_tiers[i].Id, i);
        }
    }

    public IReadOnlyList<Tier> Tiers => _tiers;

    public Tier Entry => _tiers[0];

    public Tier ForLifetimeSpend(long lifetimeSpendMinor)
    {
        var tier = _tiers[0];
        for (var i = 1; i < _tiers.Length && _tiers[i].ThresholdMinor <= lifetimeSpendMinor; i++)
        {
            tier = _tiers[i];
        }

        return tier;
    }

    /// <summary>
    /// The tier a member holds: the stored one when this program knows it, else what the spend qualifies for.
    /// A stored tier above what the spend gives is kept (a tier is never lost by re-reading state).
    /// </summary>
    public Tier Resolve(string? storedTierId, long lifetimeSpendMinor)
    {
        var bySpend = ForLifetimeSpend(lifetimeSpendMinor);
        if (storedTierId is not null && _rankById.TryGetValue(storedTierId, out var rank) && rank > _rankById[bySpend.Id])
        {
            return _tiers[rank];
        }

        return bySpend;
    }

    /// <summary>The tier after a purchase: upgrades happen on the purchase that crosses a threshold, never a downgrade.</summary>
    public Tier AfterSpend(Tier current, long newLifetimeSpendMinor)
    {
        var qualified = ForLifetimeSpend(newLifetimeSpendMinor);
        return _rankById[qualified.Id] > _rankById[current.Id] ? qualified : current;
    }

    public TierProgress? ProgressFrom(Tier current, long lifetimeSpendMinor)
    {
        var rank = _rankById[current.Id];
        if (rank + 1 >= _tiers.Length)
        {
            return null;
        }

        var next = _tiers[rank + 1];
        return new TierProgress(next, Math.Max(0, next.ThresholdMinor - lifetimeSpendMinor));
    }
}
