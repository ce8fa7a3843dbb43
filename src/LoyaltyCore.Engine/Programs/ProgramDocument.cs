using System.Text.Json.Serialization;

namespace LoyaltyCore.Engine.Programs;

/// <summary>
/// The program file as written by a program manager (see docs/PROGRAM.md). Everything is nullable so that
/// validation can name each missing field instead of failing on the first.
/// </summary>
public sealed class ProgramDocument
{
    public string? Id { get; set; }

    public string? Version { get; set; }

    public string? Currency { get; set; }

    /// <summary>Digits after the decimal point of the currency (2 for EUR, 0 for JPY).</summary>
    public int? CurrencyExponent { get; set; }

    /// <summary>Whether a purchase by an unknown member enrols them instead of failing with NOT_FOUND.</summary>
    public bool AutoEnroll { get; set; }

    public EarnDocument? Earn { get; set; }

    public List<TierDocument>? Tiers { get; set; }
}

public sealed class EarnDocument
{
    /// <summary>Points awarded for every <see cref="PerMinor"/> minor units spent.</summary>
    public long? Points { get; set; }

    public long? PerMinor { get; set; }

    /// <summary>floor, ceiling, half_up or half_even.</summary>
    public string? Rounding { get; set; }
}

public sealed class TierDocument
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    /// <summary>Lifetime spend, in minor units, from which a member qualifies.</summary>
    public long? Threshold { get; set; }

    /// <summary>Multiplier on base points, up to 4 decimals (1.25).</summary>
    public decimal? Multiplier { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip,
    AllowTrailingCommas = true)]
[JsonSerializable(typeof(ProgramDocument))]
internal sealed partial class ProgramJsonContext : JsonSerializerContext;
