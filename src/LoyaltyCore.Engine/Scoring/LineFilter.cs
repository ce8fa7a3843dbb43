namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// Which basket lines a rule is about: any of the categories, any of the brands, any of the SKUs; fields left empty
/// do not restrict. Compiled into ordinal hash sets once per program.
/// </summary>
public sealed class LineFilter(IReadOnlySet<string>? categories, IReadOnlySet<string>? brands, IReadOnlySet<string>? skus)
{
    public bool Matches(in BasketLine line) =>
        (categories is null || categories.Contains(line.Category))
        && (brands is null || brands.Contains(line.Brand))
        && (skus is null || skus.Contains(line.Sku));
}
