using LoyaltyCore.Engine.Programs;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Which version a purchase's instant falls to, on the timeline alone (no server).</summary>
public sealed class ProgramTimelineTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly LoyaltyProgram First = Compile("first");
    private static readonly LoyaltyProgram Second = Compile("second");
    private static readonly LoyaltyProgram Third = Compile("third");

    [Fact]
    public void Each_instant_falls_to_the_last_version_activated_at_or_before_it()
    {
        var timeline = Timeline((Start, First), (Start.AddDays(2), Second), (Start.AddDays(5), Third));

        Assert.Same(First, timeline.At(Start));
        Assert.Same(First, timeline.At(Start.AddDays(2).AddTicks(-1)));
        Assert.Same(Second, timeline.At(Start.AddDays(2)));
        Assert.Same(Second, timeline.At(Start.AddDays(5).AddTicks(-1)));
        Assert.Same(Third, timeline.At(Start.AddDays(5)));
        Assert.Same(Third, timeline.At(Start.AddYears(1)));
        // The offset of the instant does not matter, only the instant.
        Assert.Same(First, timeline.At(Start.AddDays(2).AddTicks(-1).ToOffset(TimeSpan.FromHours(-7))));
        Assert.Same(Second, timeline.At(Start.AddDays(2).ToOffset(TimeSpan.FromHours(9))));
    }

    [Fact]
    public void Before_every_activation_kept_the_earliest_version_scores()
    {
        var timeline = Timeline((Start, First), (Start.AddDays(2), Second));

        Assert.Same(First, timeline.At(Start.AddTicks(-1)));
        Assert.Same(First, timeline.At(Start.AddYears(-3)));
    }

    [Fact]
    public void With_one_version_known_it_scores_every_instant()
    {
        var timeline = Timeline((Start, First));

        Assert.Same(First, timeline.At(Start.AddDays(-80)));
        Assert.Same(First, timeline.At(Start.AddDays(1)));
        Assert.Equal(Start, timeline.CurrentSince);
    }

    [Fact]
    public void A_version_activated_again_while_active_stays_active_from_its_first_activation()
    {
        var timeline = Timeline((Start, First), (Start.AddDays(1), Second), (Start.AddDays(3), Second));

        Assert.Same(Second, timeline.At(Start.AddDays(2)));
        Assert.Equal(Start.AddDays(1), timeline.CurrentSince);
        Assert.Equal(Start.AddDays(3), timeline.Active.ActivatedAt);
        Assert.Equal([First, Second], timeline.Programs);
    }

    [Fact]
    public void A_version_activated_again_after_another_one_scores_both_of_its_periods()
    {
        var timeline = Timeline((Start, First), (Start.AddDays(1), Second), (Start.AddDays(3), First));

        Assert.Same(First, timeline.At(Start.AddHours(12)));
        Assert.Same(Second, timeline.At(Start.AddDays(2)));
        Assert.Same(First, timeline.At(Start.AddDays(4)));
    }

    [Fact]
    public void An_activation_recorded_earlier_than_the_one_before_it_starts_with_that_one()
    {
        // The ledger's order decides which version is active; a time out of that order (two publications racing)
        // must not hand the active version's instants to an earlier one.
        var timeline = Timeline((Start, First), (Start.AddDays(2), Second), (Start.AddDays(1), Third));

        Assert.Same(First, timeline.At(Start.AddDays(1)));
        Assert.Same(Third, timeline.At(Start.AddDays(2)));
        Assert.Same(Third, timeline.At(Start.AddDays(3)));
        Assert.Equal(Start.AddDays(2), timeline.CurrentSince);
    }

    [Fact]
    public void The_last_activation_must_be_the_active_versions()
    {
        var active = new ActiveProgram(First, "{}", Start);

        Assert.Throws<ArgumentException>(() => new ProgramTimeline(active, [new(Start, Second)], fromLedger: true));
        Assert.Throws<ArgumentException>(() => new ProgramTimeline(active, [], fromLedger: true));
    }

    private static ProgramTimeline Timeline(params (DateTimeOffset At, LoyaltyProgram Program)[] activations)
    {
        var (at, program) = activations[^1];
        return new ProgramTimeline(new ActiveProgram(program, "{}", at), [.. activations.Select(a => new ProgramActivation(a.At, a.Program))], fromLedger: true);
    }

    private static LoyaltyProgram Compile(string version) => ProgramParser.Parse(Programs.Document(version));
}
