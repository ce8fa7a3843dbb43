using LoyaltyCore.Engine.Programs;

namespace LoyaltyCore.Engine.Tests;

public sealed class ProgramParserTests
{
    [Fact]
    public void The_shipped_sample_program_compiles()
    {
        var program = ProgramParser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "sample-program.json")));
        Assert.Equal("EUR", program.Currency);
        Assert.Equal(["member", "silver", "gold"], program.Tiers.Tiers.Select(t => t.Id));
        Assert.Equal(12_500, program.Tiers.Tiers[1].MultiplierBasisPoints);
    }

    [Fact]
    public void Every_problem_is_reported_with_its_path()
    {
        const string json = """
            {
              "id": "p", "version": "bad version", "currency": "eur",
              "earn": { "points": -1, "perMinor": 0, "rounding": "bankers" },
              "tiers": [
                { "id": "a", "threshold": 10 },
                { "id": "b", "threshold": 5, "multiplier": 0.5 },
                { "id": "b", "threshold": 20, "multiplier": 1.23456 }
              ]
            }
            """;
        var error = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse(json));

        Assert.Contains(error.Errors, e => e.StartsWith("version:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("currency:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("earn.points:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("earn.perMinor:", StringComparison.Ordinal));
        Assert.Contains(error.Errors, e => e.StartsWith("earn.rounding:", StringComparison.Ordinal));
        Assert.Contains("tiers[0].threshold: the first tier must start at 0", error.Errors);
        Assert.Contains("tiers[1].threshold: must be greater than tiers[0].threshold", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("tiers[1].multiplier:", StringComparison.Ordinal));
        Assert.Contains("tiers[2].id: duplicate tier id 'b'", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("tiers[2].multiplier:", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_fields_are_refused_with_their_path()
    {
        var json = ProgramBuilder.SampleJson.Replace("\"perMinor\": 100", "\"perMinor\": 100, \"perMinr\": 1", StringComparison.Ordinal);
        var error = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse(json));
        Assert.Equal("earn.perMinr: unknown field", Assert.Single(error.Errors));
    }

    [Fact]
    public void A_wrongly_typed_value_names_its_path()
    {
        var json = ProgramBuilder.SampleJson.Replace("\"threshold\": 50000", "\"threshold\": \"lots\"", StringComparison.Ordinal);
        var error = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse(json));
        Assert.StartsWith("tiers[1].threshold:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_sections_are_each_named()
    {
        var error = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse("{}"));
        Assert.Contains("earn: required", error.Errors);
        Assert.Contains("tiers: required", error.Errors);
        Assert.Contains(error.Errors, e => e.StartsWith("id:", StringComparison.Ordinal));
    }
}
