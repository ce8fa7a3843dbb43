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
        Assert.Equal(22, program.Rules.Count); // 13 purchase and 6 event rules, then 2 + 1 campaign rules
        Assert.Equal(["black-friday", "military-thanks"], program.Campaigns.Select(c => c.Id));
        Assert.Equal(500_000, program.Campaigns[0].Budget);
        Assert.Single(program.Objectives);
        Assert.NotNull(program.Referral);
        Assert.NotNull(program.FindMembership("plus"));
        Assert.Equal(5000, program.Caps.PerTransaction);
        Assert.Equal("Europe/Paris", program.Calendar.TimeZone.Id);
        Assert.Equal((Engine.Points.ExpiryPeriod.Quarter, 4, true), (program.Expiry.Period!.Value, program.Expiry.PeriodsAfter, program.Expiry.ExtendOnActivity));
        // Earned in November 2026: the fourth quarter after Q4 2026 ends on 31 December 2027.
        Assert.Equal(20280101, program.Expiry.ExpiresOn(new DateOnly(2026, 11, 10)));
        Assert.Equal(["coffee", "tote", "tablet", "xmas-box"], program.Rewards.Rewards.Select(r => r.Id));
        Assert.Equal(50, program.BudgetTotal("reward:tablet"));
        Assert.Equal((Engine.Rewards.NudgeChoice.Closest, 5000L), (program.Rewards.Nudge.Choice, program.Rewards.Nudge.MaxPointsNeeded!.Value));
    }

    [Fact]
    public void The_complete_example_scores_a_first_store_purchase_with_the_base_rate_and_the_welcome_bonus()
    {
        var program = ProgramParser.Parse(ExampleFromDocs());
        var member = new Scoring.MemberState { Tier = "member", EnrolledAt = new DateTimeOffset(2025, 1, 10, 9, 0, 0, TimeSpan.Zero) };

        // Tuesday 10 November 2026, noon in Paris, at a store outside the Black Friday window.
        var outcome = program.Score(member, ProgramBuilder.BasketAt(new DateTimeOffset(2026, 11, 10, 11, 0, 0, TimeSpan.Zero), ProgramBuilder.Line(6_000)));

        Assert.Equal([("base-earn", 60L), ("welcome", 200L)], outcome.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(260, outcome.PointsEarned);
        Assert.Equal("member", outcome.TierAfter.Id);
    }

    [Fact]
    public void The_complete_example_adds_its_multipliers_rather_than_compounding_them()
    {
        var program = ProgramParser.Parse(ExampleFromDocs());
        var member = new Scoring.MemberState { Tier = "member", Purchases = 3, EnrolledAt = new DateTimeOffset(2025, 1, 10, 9, 0, 0, TimeSpan.Zero) };
        var at = new DateTimeOffset(2026, 11, 10, 11, 0, 0, TimeSpan.Zero);

        var outcome = program.Score(member, ProgramBuilder.BasketAt(at, Scoring.Channel.MobileApp, "web", ProgramBuilder.Line(6_000, brand: "acme")));

        // 60 base, +60 for the app (x2), +30 for the brand (x1.5): 150, not 60 x 2 x 1.5 = 180.
        Assert.Equal([("base-earn", 60L), ("app-orders", 60L), ("acme-brand", 30L)], outcome.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(150, outcome.PointsEarned);
    }

    [Fact]
    public void The_complete_example_matches_line_labels_in_its_rules_and_exclusions()
    {
        var program = ProgramParser.Parse(ExampleFromDocs());
        var member = new Scoring.MemberState { Tier = "member", Purchases = 3, EnrolledAt = new DateTimeOffset(2025, 1, 10, 9, 0, 0, TimeSpan.Zero) };
        var at = new DateTimeOffset(2026, 11, 10, 11, 0, 0, TimeSpan.Zero);

        var outcome = program.Score(member, ProgramBuilder.BasketAt(at,
            ProgramBuilder.Labelled(3_000, "color=red", "season=summer"),
            ProgramBuilder.Labelled(2_000, "promo=SPRING24") with { Brand = "acme" },
            ProgramBuilder.Labelled(1_000, "clearance=last-pieces") with { Brand = "acme" },
            ProgramBuilder.Labelled(5_000, "promo=STAFF")));

        // Earning spend 60.00 (the STAFF line is excluded): base 60; red-summer x2 on its 30.00 line (its minimum);
        // acme +50% on the SPRING24 line only (the clearance line is left out); the SPRING24 code bonus.
        Assert.Equal([("base-earn", 60L), ("acme-brand", 10L), ("red-summer", 30L), ("spring-code", 75L)], outcome.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(11_000, outcome.SpendMinor);
    }

    [Fact]
    public void The_complete_example_rewards_its_events_within_their_limits()
    {
        var program = ProgramParser.Parse(ExampleFromDocs());
        var at = new DateTimeOffset(2026, 11, 10, 11, 0, 0, TimeSpan.Zero);
        // Reviewed on 1 January, so the gold tier holds until the next review.
        var gold = new Scoring.MemberState
        {
            Tier = "gold",
            EnrolledAt = new DateTimeOffset(2025, 1, 10, 9, 0, 0, TimeSpan.Zero),
            Counters = new Dictionary<string, long>(StringComparer.Ordinal) { [Scoring.CounterKeys.TierReview] = 20260101 },
        };
        var staff = new Scoring.MemberState { Tier = "member", Segments = ["staff"] };

        Assert.Equal(100, program.RecordEvent(gold, "newsletter_subscribed", at).PointsEarned);
        Assert.Equal(20, program.RecordEvent(gold, "review_posted", at).PointsEarned);
        Assert.Equal(0, program.RecordEvent(staff, "review_posted", at).PointsEarned);
        Assert.Equal(10, program.RecordEvent(gold, "store_checkin", at).PointsEarned);
        Assert.Equal(0, program.RecordEvent(staff, "store_checkin", at).PointsEarned);
        // At their limits: the newsletter once per member, three reviews a month, one gold check-in a day.
        var limited = new Scoring.MemberState
        {
            Tier = "gold",
            EnrolledAt = gold.EnrolledAt,
            Counters = new Dictionary<string, long>(StringComparer.Ordinal)
            {
                [Scoring.CounterKeys.TierReview] = 20260101,
                ["k.e:newsletter"] = 1,
                ["k.em:202611:reviews"] = 3,
                ["k.ed:20261110:gold-checkin"] = 1,
            },
        };
        Assert.Equal(0, program.RecordEvent(limited, "newsletter_subscribed", at).PointsEarned);
        Assert.Equal(0, program.RecordEvent(limited, "review_posted", at).PointsEarned);
        Assert.Equal(0, program.RecordEvent(limited, "store_checkin", at).PointsEarned);
        Assert.Equal(10, program.RecordEvent(limited, "store_checkin", at.AddDays(1)).PointsEarned);
        Assert.True(program.IsRecordableEvent("store_checkin"));
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
