using System.Text.RegularExpressions;
using LoyaltyCore.Engine.Programs;

namespace LoyaltyCore.Engine.Tests;

/// <summary>The complete example in docs/PROGRAM.md is a real program: it must stay valid as the format evolves.</summary>
public sealed partial class DocumentedProgramTests
{
    [Fact]
    public void The_complete_example_in_the_program_documentation_compiles_with_every_mechanic()
    {
        var program = ProgramParser.Parse(ExampleFromDocs());

        Assert.Equal("maison", program.Id);
        Assert.Equal(3, program.Tiers.Tiers.Count);
        Assert.Equal(14, program.Rules.Count); // 11 program rules, then 2 + 1 campaign rules
        Assert.Equal(["black-friday", "military-thanks"], program.Campaigns.Select(c => c.Id));
        Assert.Equal(500_000, program.Campaigns[0].Budget);
        Assert.Single(program.Objectives);
        Assert.NotNull(program.Referral);
        Assert.NotNull(program.FindMembership("plus"));
        Assert.Equal(5000, program.Caps.PerTransaction);
        Assert.Equal("Europe/Paris", program.Calendar.TimeZone.Id);
    }

    private static string ExampleFromDocs()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "PROGRAM.md")))
        {
            directory = directory.Parent;
        }

        Assert.NotNull(directory);
        var markdown = File.ReadAllText(Path.Combine(directory.FullName, "docs", "PROGRAM.md"));
        return JsonBlock().Match(markdown).Groups[1].Value;
    }

    [GeneratedRegex("```json\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
