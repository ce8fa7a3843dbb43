using CsCheck;
using LoyaltyCore.Engine.Programs;

namespace LoyaltyCore.Engine.Tests;

/// <summary>
/// Program documents mangled at random from the shipped sample: whatever the damage, the parser either accepts the
/// document or refuses it with its validation error, never anything else.
/// </summary>
public sealed class ProgramFuzzTests
{
    // A bounded run in CI; CsCheck_Iter asks for a longer hunt.
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), out var iterations) ? iterations : 2_000;
    private static readonly string Sample = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "sample-program.json"));

    // Fragments that make a JSON document subtly or grossly wrong: other types, extreme numbers, odd strings.
    private static readonly string[] Fragments =
    [
        "null", "true", "[]", "{}", "\"\"", "-1", "0", "1e308", "-9223372036854775809", "9223372036854775808",
        "1.5", "\"x\"", "\"2026-13-45T99:99:99Z\"", "\"\\u0000\"", "\"Europe/Nowhere\"", ",", ":", "\"", "{", "}",
        "[", "]", "\"daysOfWeek\"", "\"nthPurchase\"", "\"all\"", "\"factor\"",
    ];

    private static readonly Gen<string> Mangled =
        from edits in Gen.Select(Gen.Int[0, Sample.Length - 1], Gen.Int[0, 40], Gen.Int[0, Fragments.Length - 1], Gen.Int[0, 2]).Array[1, 6]
        select Apply(edits);

    [Fact]
    public void A_mangled_document_is_either_a_program_or_a_validation_error() =>
        Mangled.Sample(document => ParsesOrRefuses(document), iter: Iterations);

    [Fact]
    public void Random_text_is_refused_with_a_validation_error() =>
        Gen.String.Sample(document => ParsesOrRefuses(document), iter: Iterations);

    private static bool ParsesOrRefuses(string document)
    {
        try
        {
            ProgramParser.Parse(document);
        }
        catch (ProgramValidationException ex)
        {
            Assert.NotEmpty(ex.Errors);
        }

        return true;
    }

    private static string Apply((int At, int Length, int Fragment, int Kind)[] edits)
    {
        var text = Sample;
        foreach (var (at, length, fragment, kind) in edits)
        {
            var start = Math.Min(at, text.Length);
            var count = Math.Min(length, text.Length - start);
            text = kind switch
            {
                0 => text.Remove(start, count),
                1 => text.Insert(start, Fragments[fragment]),
                _ => text.Remove(start, count).Insert(start, Fragments[fragment]),
            };
        }

        return text;
    }
}
