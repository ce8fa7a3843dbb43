using System.Collections.Frozen;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// Which basket lines a rule is about: any of the categories, any of the brands, any of the SKUs, every key of
/// <c>labels</c> with an accepted value, and none of <c>exceptLabels</c>; parts left out do not restrict. Compiled
/// into ordinal frozen sets once per program.
/// </summary>
public sealed class LineFilter(
    IReadOnlySet<string>? categories,
    IReadOnlySet<string>? brands,
    IReadOnlySet<string>? skus,
    LabelSelector? labels = null,
    LabelSelector? exceptLabels = null)
{
    private readonly FrozenSet<string>? _categories = categories?.ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenSet<string>? _brands = brands?.ToFrozenSet(StringComparer.Ordinal);
    private readonly FrozenSet<string>? _skus = skus?.ToFrozenSet(StringComparer.Ordinal);

    public bool Matches(in BasketLine line) =>
        (_categories is null || _categories.Contains(line.Category))
        && (_brands is null || _brands.Contains(line.Brand))
        && (_skus is null || _skus.Contains(line.Sku))
        && (labels is null || labels.MatchesAll(line))
        && (exceptLabels is null || !exceptLabels.MatchesAny(line));
}
