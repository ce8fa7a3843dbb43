using System.Globalization;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// Ids built once, so that a request costs no string allocations beyond its transaction id.
/// </summary>
internal sealed class Catalog
{
    /// <summary>Ids of online orders: the web shop and the app are one "store" each.</summary>
    public const string WebStoreId = "web-shop";

    public const string AppStoreId = "mobile-app";

    private static readonly string[] Categories = ["grocery", "beverages", "household", "electronics", "apparel", "beauty", "toys", "garden"];
    private static readonly string[] Brands = ["acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "own-label"];

    private Catalog(string[] memberIds, string[] storeIds, Product[] products)
    {
        MemberIds = memberIds;
        StoreIds = storeIds;
        Products = products;
    }

    /// <summary>In order of popularity: the Zipf sampler's rank r is <c>MemberIds[r]</c>.</summary>
    public IReadOnlyList<string> MemberIds { get; }

    public IReadOnlyList<string> StoreIds { get; }

    public IReadOnlyList<Product> Products { get; }

    /// <summary>
    /// Member ids are the same on every run, so a population enrolled once is reused rather than grown.
    /// </summary>
    public static Catalog Create(int members)
    {
        var memberIds = new string[members];
        for (var i = 0; i < members; i++)
        {
            memberIds[i] = string.Create(CultureInfo.InvariantCulture, $"lt-m-{i:D8}");
        }

        var storeIds = new string[64];
        for (var i = 0; i < storeIds.Length; i++)
        {
            storeIds[i] = string.Create(CultureInfo.InvariantCulture, $"store-{i:D3}");
        }

        var products = new Product[512];
        for (var i = 0; i < products.Length; i++)
        {
            products[i] = new Product(
                string.Create(CultureInfo.InvariantCulture, $"sku-{i:D5}"),
                Categories[i % Categories.Length],
                Brands[i / Categories.Length % Brands.Length]);
        }

        return new Catalog(memberIds, storeIds, products);
    }
}

internal sealed record Product(string Sku, string Category, string Brand);
