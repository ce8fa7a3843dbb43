using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class EventTests
{
    private static readonly DateTimeOffset At = Utc(2026, 3, 10);

    private static LoyaltyProgram WithEvents(string rules, string extra = "") => Program($$"""
        "events": ["store_visit_checked_in"],
        {{extra}}
        "rules": {{rules}}
        """);

    [Fact]
    public void An_event_rule_awards_its_points_for_its_event_only()
    {
        var program = WithEvents("""
            [ { "id": "newsletter", "name": "Newsletter welcome", "type": "event", "event": "newsletter_subscribed", "points": 100 },
              { "id": "review", "type": "event", "event": "review_posted", "points": 20 } ]
            """);

        var outcome = program.RecordEvent(Member(), "newsletter_subscribed", At);

        Assert.Equal([("newsletter", 100L)], outcome.Lines());
        Assert.Equal("Newsletter welcome", outcome.LineFor("newsletter").Reason);
        Assert.Equal(0, outcome.SpendMinor);
    }

    [Fact]
    public void Purchase_rules_never_fire_on_an_event_and_event_rules_never_on_a_purchase()
    {
        var program = WithEvents("""
            [ { "id": "visit", "type": "bonus", "points": 5 },
              { "id": "review", "type": "event", "event": "review_posted", "points": 20 } ]
            """);

        var onEvent = program.RecordEvent(Member(), "review_posted", At);
        var onPurchase = program.Score(Member(), BasketAt(At, Line(1_000)));

        Assert.Equal([("review", 20L)], onEvent.Lines());
        Assert.Equal([("base-earn", 10L), ("visit", 5L)], onPurchase.Lines());
        Assert.DoesNotContain(onPurchase.Deltas(), d => d.Key.StartsWith("k.e", StringComparison.Ordinal));
    }

    [Fact]
    public void An_event_without_rules_earns_nothing_and_counts_nothing()
    {
        var outcome = WithEvents("[]").RecordEvent(Member(), "app_installed", At);

        Assert.Equal(0, outcome.PointsEarned);
        Assert.Empty(outcome.Breakdown);
        Assert.Empty(outcome.CounterDeltas);
    }

    [Fact]
    public void A_lifetime_limit_lets_the_rule_fire_that_many_times_in_all()
    {
        var program = WithEvents("""[ { "id": "newsletter", "type": "event", "event": "newsletter_subscribed", "points": 100, "limit": { "count": 1 } } ]""");

        var first = program.RecordEvent(Member(), "newsletter_subscribed", At);
        var again = program.RecordEvent(new MemberState { Tier = "member", Counters = Counters(("k.e:newsletter", 1)) }, "newsletter_subscribed", At.AddYears(2));

        Assert.Equal([("k.e:newsletter", 1L)], first.Deltas());
        Assert.Equal(100, first.PointsEarned);
        Assert.Equal(0, again.PointsEarned);
        Assert.Empty(again.CounterDeltas);
    }

    [Theory]
    [InlineData("day", "k.ed:20260310:review")]
    [InlineData("week", "k.ew:202611:review")]
    [InlineData("month", "k.em:202603:review")]
    [InlineData("year", "k.ey:2026:review")]
    public void A_period_limit_counts_firings_in_the_local_period(string period, string key)
    {
        var program = WithEvents($$"""[ { "id": "review", "type": "event", "event": "review_posted", "points": 20, "limit": { "count": 2, "period": "{{period}}" } } ]""");

        var second = program.RecordEvent(new MemberState { Tier = "member", Counters = Counters((key, 1)) }, "review_posted", At);
        var third = program.RecordEvent(new MemberState { Tier = "member", Counters = Counters((key, 2)) }, "review_posted", At);

        Assert.Equal([(key, 1L)], second.Deltas());
        Assert.Equal(20, second.PointsEarned);
        Assert.Equal(0, third.PointsEarned);
    }

    [Fact]
    public void A_period_limit_starts_again_in_the_next_period_and_the_old_counter_is_dropped()
    {
        var program = WithEvents("""[ { "id": "review", "type": "event", "event": "review_posted", "points": 20, "limit": { "count": 1, "period": "month" } } ]""");
        var member = new MemberState { Tier = "member", Counters = Counters(("k.em:202603:review", 1)) };

        var nextMonth = program.RecordEvent(member, "review_posted", Utc(2026, 4, 2));
        var lateUpload = program.RecordEvent(member, "review_posted", Utc(2026, 3, 30));

        Assert.Equal(20, nextMonth.PointsEarned);
        Assert.Equal(["k.em:202603:review"], nextMonth.StaleCounters);
        Assert.Equal(0, lateUpload.PointsEarned);
        Assert.Empty(lateUpload.StaleCounters);
    }

    [Fact]
    public void Conditions_on_the_member_and_windows_apply_to_event_rules()
    {
        var program = WithEvents("""
            [ { "id": "gold-review", "type": "event", "event": "review_posted", "points": 50, "when": { "tiers": ["gold"] } },
              { "id": "spring", "type": "event", "event": "review_posted", "points": 10,
                "window": { "start": "2026-03-01T00:00", "end": "2026-04-01T00:00" } } ]
            """);

        var gold = program.RecordEvent(Member(tier: "gold"), "review_posted", At);
        var member = program.RecordEvent(Member(), "review_posted", At);
        var outside = program.RecordEvent(Member(), "review_posted", Utc(2026, 4, 1));

        Assert.Equal([("gold-review", 50L), ("spring", 10L)], gold.Lines());
        Assert.Equal([("spring", 10L)], member.Lines());
        Assert.Empty(outside.Breakdown);
    }

    [Fact]
    public void Caps_apply_to_events_and_event_points_count_for_the_daily_cap()
    {
        var program = WithEvents(
            """[ { "id": "checkin", "type": "event", "event": "store_visit_checked_in", "points": 400 } ]""",
            """ "caps": { "perTransaction": 300, "perMemberPerDay": 1000 }, """);

        var cut = program.RecordEvent(new MemberState { Tier = "member", Counters = Counters(("k.d:20260310", 900)) }, "store_visit_checked_in", At);
        var perTransaction = program.RecordEvent(Member(), "store_visit_checked_in", At);

        Assert.Equal(100, cut.PointsEarned);
        Assert.Contains("daily cap", cut.LineFor("checkin").Reason, StringComparison.Ordinal);
        Assert.Equal([("k.d:20260310", 300L)], perTransaction.Deltas());
    }

    [Fact]
    public void A_firing_cut_to_nothing_by_a_cap_still_counts_against_its_limit()
    {
        var program = WithEvents(
            """[ { "id": "newsletter", "type": "event", "event": "newsletter_subscribed", "points": 100, "limit": { "count": 1 } } ]""",
            """ "caps": { "perMemberPerDay": 1000 }, """);

        var outcome = program.RecordEvent(new MemberState { Tier = "member", Counters = Counters(("k.d:20260310", 1000)) }, "newsletter_subscribed", At);

        Assert.Equal([("newsletter", 0L)], outcome.Lines());
        Assert.Equal([("k.e:newsletter", 1L)], outcome.Deltas());
    }

    [Fact]
    public void Event_points_move_the_tier_when_it_qualifies_on_points()
    {
        var program = ProgramParser.Parse(Json("""
            "tierQualification": { "metric": "points" },
            "rules": [ { "id": "review", "type": "event", "event": "review_posted", "points": 600 } ]
            """, tiers: """[ { "id": "member", "threshold": 0 }, { "id": "silver", "threshold": 500 } ]"""));

        var outcome = program.RecordEvent(Member(), "review_posted", At);

        Assert.Equal("member", outcome.TierBefore.Id);
        Assert.Equal("silver", outcome.TierAfter.Id);
        Assert.Equal([("k.pl", 600L)], outcome.Deltas());
    }

    [Fact]
    public void Event_points_leave_a_spend_tier_alone()
    {
        var program = WithEvents("""[ { "id": "review", "type": "event", "event": "review_posted", "points": 600000 } ]""");

        var outcome = program.RecordEvent(Member(), "review_posted", At);

        Assert.Equal("member", outcome.TierAfter.Id);
        Assert.Empty(outcome.CounterDeltas);
    }

    [Fact]
    public void Stop_on_an_event_rule_ends_the_later_event_rules()
    {
        var program = WithEvents("""
            [ { "id": "first", "type": "event", "event": "review_posted", "points": 10, "stop": true },
              { "id": "second", "type": "event", "event": "review_posted", "points": 20 } ]
            """);

        Assert.Equal([("first", 10L)], program.RecordEvent(Member(), "review_posted", At).Lines());
    }

    [Fact]
    public void Standard_and_declared_events_are_recordable_and_built_in_or_other_names_are_not()
    {
        var program = WithEvents("[]");

        Assert.True(program.IsRecordableEvent("newsletter_subscribed"));
        Assert.False(program.IsRecordableEvent("birthday"));
        Assert.True(program.IsRecordableEvent("store_visit_checked_in"));
        Assert.False(program.IsRecordableEvent("store_visit"));
        Assert.False(program.IsRecordableEvent("Newsletter_subscribed"));
    }

    [Fact]
    public void Event_rules_and_declarations_are_validated_with_their_paths()
    {
        var errors = Errors(Json("""
            "events": ["newsletter_subscribed", "checkin", "checkin", "bad name"],
            "rules": [
              { "id": "a", "type": "event", "event": "unknown_event", "points": 10 },
              { "id": "b", "type": "event", "event": "checkin", "points": 0, "factor": 2 },
              { "id": "c", "type": "event", "event": "checkin", "points": 5, "limit": { "period": "month" } },
              { "id": "d", "type": "event", "event": "checkin", "points": 5, "when": { "basketTotalAtLeast": 100 } },
              { "id": "e", "type": "event", "points": 5, "limit": { "count": 1, "period": "decade" } }
            ]
            """));

        Assert.Equal(
            [
                "events[0]: 'newsletter_subscribed' is a standard event and needs no declaration",
                "events[2]: 'checkin' is declared twice",
                "events[3]: an event name: 1-64 characters of letters, digits, '.', '_', ':' or '-'",
                "rules[0].event: 'unknown_event' is neither a standard event (app_installed, birthday, enrolled, newsletter_subscribed, profile_completed, review_posted, tier_reached) nor declared in events",
                "rules[1].factor: not used by event rules",
                "rules[1].points: a whole number from 1 to 100000000",
                "rules[2].limit.count: required",
                "rules[3].when.basketTotalAtLeast: a condition on the purchase, which event rules do not have",
                "rules[4].event: required",
                "rules[4].limit.period: one of day, week, month, year",
            ],
            errors.Order(StringComparer.Ordinal));
    }
}
