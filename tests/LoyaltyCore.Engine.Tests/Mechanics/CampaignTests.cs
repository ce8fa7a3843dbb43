using System.Globalization;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class CampaignTests
{
    private static DateTimeOffset Instant(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static LoyaltyProgram Campaign(string scope) => Program(
        $$"""
        "campaigns": [ { "id": "promo", "name": "Promo", {{scope}},
          "rules": [ { "id": "promo-visit", "type": "bonus", "points": 30 } ] } ]
        """,
        timeZone: Paris);

    private static bool Live(LoyaltyProgram program, DateTimeOffset at, Channel channel = Channel.Store, string store = "store-1", MemberState? member = null) =>
        program.Score(member ?? new MemberState(), BasketAt(at, channel, store, Line(1_000))).Breakdown.Any(b => b.RuleId == "promo-visit");

    [Theory]
    [InlineData("2026-11-26T22:59:59Z", false)] // 23:59:59 on the 26th in Paris (UTC+1)
    [InlineData("2026-11-26T23:00:00Z", true)] // start, included
    [InlineData("2026-11-29T22:59:59Z", true)]
    [InlineData("2026-11-29T23:00:00Z", false)] // end, excluded
    public void A_window_is_read_in_the_program_time_zone(string instant, bool live)
    {
        var program = Campaign("""
            "window": { "start": "2026-11-27T00:00", "end": "2026-11-30T00:00" }
            """);
        Assert.Equal(live, Live(program, Instant(instant)));
    }

    [Theory]
    [InlineData("2026-03-29T09:59:59Z", false)] // 11:59:59 summer time (UTC+2), the day clocks went forward
    [InlineData("2026-03-29T10:00:00Z", true)]
    [InlineData("2026-10-25T10:59:59Z", true)] // 11:59:59 winter time (UTC+1), the day clocks went back
    [InlineData("2026-10-25T11:00:00Z", false)]
    public void Window_edges_on_daylight_saving_days_use_the_offset_in_force_at_each_edge(string instant, bool live)
    {
        var program = Campaign("""
            "window": { "start": "2026-03-29T12:00", "end": "2026-10-25T12:00" }
            """);
        Assert.Equal(live, Live(program, Instant(instant)));
    }

    [Theory]
    [InlineData("2026-03-08T15:59:59Z", false)] // New York switched to UTC-4 at 02:00 that day
    [InlineData("2026-03-08T16:00:00Z", true)]
    [InlineData("2026-11-01T16:59:59Z", true)] // and back to UTC-5 at 02:00 on 1 November
    [InlineData("2026-11-01T17:00:00Z", false)]
    public void A_campaign_window_can_name_its_own_time_zone(string instant, bool live)
    {
        var program = Campaign("""
            "window": { "start": "2026-03-08T12:00", "end": "2026-11-01T12:00", "timeZone": "America/New_York" }
            """);
        Assert.Equal(live, Live(program, Instant(instant)));
    }

    [Theory]
    [InlineData("2026-06-30T21:59:59Z", false)]
    [InlineData("2026-06-30T22:00:00Z", true)]
    [InlineData("2026-07-01T21:59:59Z", true)]
    [InlineData("2026-07-01T22:00:00Z", false)]
    public void A_program_rule_can_have_its_own_window(string instant, bool fires)
    {
        var program = Program(
            """
            "rules": [ { "id": "one-day", "type": "bonus", "points": 5, "window": { "start": "2026-07-01", "end": "2026-07-02T00:00:00" } } ]
            """,
            timeZone: Paris);

        var outcome = program.Score(new MemberState(), BasketAt(Instant(instant), Line(1_000)));

        Assert.Equal(fires, outcome.Breakdown.Any(b => b.RuleId == "one-day"));
    }

    [Theory]
    [InlineData("paris-01", true)]
    [InlineData("lyon-02", true)]
    [InlineData("marseille-03", false)]
    public void A_campaign_can_be_limited_to_stores(string store, bool live) =>
        Assert.Equal(live, Live(Campaign(""" "stores": ["paris-01", "lyon-02"] """), Utc(2026, 5, 5), store: store));

    [Theory]
    [InlineData(Channel.Store, true)]
    [InlineData(Channel.MobileApp, true)]
    [InlineData(Channel.Web, false)]
    [InlineData(Channel.Partner, false)]
    public void A_campaign_can_be_limited_to_channels(Channel channel, bool live) =>
        Assert.Equal(live, Live(Campaign(""" "channels": ["store", "mobile_app"] """), Utc(2026, 5, 5), channel));

    [Theory]
    [InlineData(new[] { "veteran" }, true)]
    [InlineData(new[] { "student", "military" }, true)]
    [InlineData(new[] { "student" }, false)]
    [InlineData(new string[0], false)]
    public void A_campaign_can_be_limited_to_segments(string[] segments, bool live) =>
        Assert.Equal(live, Live(Campaign(""" "segments": ["military", "veteran"] """), Utc(2026, 5, 5), member: new MemberState { Segments = segments }));

    [Theory]
    [InlineData("2026-11-28T10:00:00Z", Channel.Store, "paris-01", true)]
    [InlineData("2026-11-28T10:00:00Z", Channel.Web, "paris-01", false)]
    [InlineData("2026-11-28T10:00:00Z", Channel.Store, "nice-04", false)]
    [InlineData("2026-12-28T10:00:00Z", Channel.Store, "paris-01", false)]
    public void Every_scope_of_a_campaign_must_hold(string instant, Channel channel, string store, bool live)
    {
        var program = Campaign("""
            "window": { "start": "2026-11-27T00:00", "end": "2026-11-30T00:00" },
            "stores": ["paris-01"], "channels": ["store"]
            """);
        Assert.Equal(live, Live(program, Instant(instant), channel, store));
    }

    [Fact]
    public void Campaign_points_are_reported_per_campaign_and_counted_for_the_member()
    {
        var program = Program("""
            "rules": [ { "id": "program-bonus", "type": "bonus", "points": 5 } ],
            "campaigns": [
              { "id": "bf", "rules": [
                  { "id": "bf-coffee", "type": "multiplier", "factor": 3, "lines": { "categories": ["coffee"] } },
                  { "id": "bf-visit", "type": "bonus", "points": 30 } ] },
              { "id": "idle", "segments": ["nobody"], "rules": [ { "id": "idle-bonus", "type": "bonus", "points": 99 } ] }
            ]
            """);

        var outcome = program.Score(new MemberState(), BasketAt(Utc(2026, 5, 5), Line(1_000, category: "coffee"), Line(1_000)));

        Assert.Equal([("base-earn", 20L), ("program-bonus", 5L), ("bf-coffee", 20L), ("bf-visit", 30L)], outcome.Lines());
        Assert.Equal([new CampaignAward("bf", 50)], outcome.CampaignAwards);
        Assert.Equal([("k.c:bf", 50L)], outcome.Deltas());
    }

    [Fact]
    public void A_campaign_outside_its_window_awards_and_counts_nothing()
    {
        var program = Campaign("""
            "window": { "start": "2026-11-27T00:00", "end": "2026-11-30T00:00" }
            """);

        var outcome = program.Score(new MemberState(), BasketAt(Utc(2026, 12, 1), Line(1_000)));

        Assert.Equal([("base-earn", 10L)], outcome.Lines());
        Assert.Empty(outcome.CampaignAwards);
        Assert.Empty(outcome.CounterDeltas);
    }
}
