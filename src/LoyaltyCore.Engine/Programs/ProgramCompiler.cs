using System.Text.Json;
using System.Text.RegularExpressions;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Scoring.Rules;
using LoyaltyCore.Engine.Tiers;

namespace LoyaltyCore.Engine.Programs;

/// <summary>Validates a program document and compiles it into an activatable <see cref="LoyaltyProgram"/>.</summary>
public static partial class ProgramCompiler
{
    public const string BaseEarnRuleId = "base-earn";
    public const string TierMultiplierRuleId = "tier-multiplier";

    public static LoyaltyProgram FromJson(string json)
    {
        ProgramDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, ProgramJsonContext.Default.ProgramDocument);
        }
        catch (JsonException ex)
        {
            var path = string.IsNullOrEmpty(ex.Path) ? "$" : ex.Path;
            throw new ProgramValidationException([$"{path}: {FirstSentence(ex.Message)}"]);
        }

        return Compile(document ?? throw new ProgramValidationException(["$: the document is empty"]));
    }

    public static LoyaltyProgram Compile(ProgramDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var errors = new List<string>();

        var id = RequireIdentifier(document.Id, "id", errors);
        var version = RequireIdentifier(document.Version, "version", errors);
        if (document.Currency is null || !CurrencyCode().IsMatch(document.Currency))
        {
            errors.Add("currency: required, a three-letter upper-case ISO 4217 code");
        }

        var exponent = document.CurrencyExponent ?? 2;
        if (exponent is < 0 or > 4)
        {
            errors.Add("currencyExponent: must be between 0 and 4");
        }

        var rounding = RoundingMode.Floor;
        long points = 0, perMinor = 0;
        if (document.Earn is null)
        {
            errors.Add("earn: required");
        }
        else
        {
            points = document.Earn.Points ?? -1;
            perMinor = document.Earn.PerMinor ?? 0;
            if (points < 0)
            {
                errors.Add("earn.points: required, zero or more");
            }

            if (perMinor <= 0)
            {
                errors.Add("earn.perMinor: required, greater than zero");
            }

            if (!TryParseRounding(document.Earn.Rounding, out rounding))
            {
                errors.Add("earn.rounding: must be one of floor, ceiling, half_up, half_even");
            }
        }

        var tiers = CompileTiers(document.Tiers, errors);
        if (errors.Count > 0)
        {
            throw new ProgramValidationException(errors);
        }

        IEarnRule[] rules =
        [
            new BaseEarnRule(BaseEarnRuleId, points, perMinor, rounding, exponent, document.Currency!),
            new TierMultiplierRule(TierMultiplierRuleId, rounding),
        ];
        return new LoyaltyProgram(id!, version!, document.Currency!, exponent, document.AutoEnroll, new TierLadder(tiers), rules);
    }

    private static List<Tier> CompileTiers(List<TierDocument>? documents, List<string> errors)
    {
        var tiers = new List<Tier>();
        if (documents is null || documents.Count == 0)
        {
            errors.Add("tiers: at least one tier is required");
            return tiers;
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < documents.Count; i++)
        {
            var path = $"tiers[{i}]";
            var tier = documents[i];
            var tierErrors = errors.Count;
            var id = RequireIdentifier(tier.Id, path + ".id", errors);
            if (id is not null && !ids.Add(id))
            {
                errors.Add($"{path}.id: duplicate tier id '{id}'");
            }

            var threshold = tier.Threshold ?? -1;
            if (threshold < 0)
            {
                errors.Add($"{path}.threshold: required, zero or more (minor currency units)");
            }
            else if (i == 0 && threshold != 0)
            {
                errors.Add($"{path}.threshold: the first tier must start at 0");
            }
            else if (i > 0 && documents[i - 1].Threshold is { } previous && threshold <= previous)
            {
                errors.Add($"{path}.threshold: must be greater than tiers[{i - 1}].threshold");
            }

            var multiplier = tier.Multiplier ?? 1m;
            var basisPoints = multiplier * 10_000m;
            if (multiplier < 1m || multiplier > 100m || basisPoints != decimal.Truncate(basisPoints))
            {
                errors.Add($"{path}.multiplier: must be between 1 and 100 with at most 4 decimals");
            }

            if (errors.Count == tierErrors)
            {
                tiers.Add(new Tier(id!, string.IsNullOrWhiteSpace(tier.Name) ? id! : tier.Name, threshold, (int)basisPoints));
            }
        }

        return tiers;
    }

    private static string? RequireIdentifier(string? value, string path, List<string> errors)
    {
        if (value is null || !Identifier().IsMatch(value))
        {
            errors.Add($"{path}: required, 1-64 characters of letters, digits, '.', '_', ':' or '-'");
            return null;
        }

        return value;
    }

    private static bool TryParseRounding(string? text, out RoundingMode mode)
    {
        (var known, mode) = text switch
        {
            null or "floor" => (true, RoundingMode.Floor),
            "ceiling" => (true, RoundingMode.Ceiling),
            "half_up" => (true, RoundingMode.HalfUp),
            "half_even" => (true, RoundingMode.HalfEven),
            _ => (false, RoundingMode.Floor),
        };
        return known;
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(". ", StringComparison.Ordinal);
        return end < 0 ? message : message[..end];
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,64}$")]
    private static partial Regex Identifier();

    [GeneratedRegex("^[A-Z]{3}$")]
    private static partial Regex CurrencyCode();
}
