using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class ConditionTests
{
    private static readonly DateTimeOffset Weekday = Utc(2026, 1, 14, 12); // Wednesday

    private static LoyaltyProgram When(string condition) => Program(
        $$"""
        "memberships": [ { "id": "plus", "name": "Plus", "priceMinor": 4900, "durationDays": 365 } ],
        "rules": [ { "id": "r", "type": "bonus", "points": 7, "when": {{condition}} } ]
        """,
        timeZone: Paris);

    private static bool Fires(string condition, MemberState member, DateTimeOffset at, Channel channel = Channel.Store, params BasketLine[] lines)
    {
        var basket = BasketAt(at, channel, "store-1", lines.Length == 0 ? [Line(1_000)] : lines);
        var outcome = When(condition).Score(member, basket);
        return outcome.Breakdown.Any(b => b.RuleId == "r");
    }

    private static bool Fires(string condition, DateTimeOffset at) => Fires(condition, new MemberState(), at);

    [Theory]
    [InlineData(new[] { "student" }, 2_000, true)]
    [InlineData(new[] { "student" }, 1_999, false)]
    [InlineData(new string[0], 2_000, false)]
    public void All_needs_every_part(string[] segments, long spendMinor, bool fires)
    {
        const string condition = """{ "all": [ { "segments": ["student"] }, { "basketTotalAtLeast": 2000 } ] }""";
        Assert.Equal(fires, Fires(condition, new MemberState { Segments = segments }, Weekday, Channel.Store, Line(spendMinor)));
    }

    [Theory]
    [InlineData(5, 0, true)]
    [InlineData(400, 1_000_000, true)]
    [InlineData(400, 999_999, false)]
    public void Any_needs_one_part(int enrolledDaysAgo, long lifetimeSpendMinor, bool fires)
    {
        const string condition = """{ "any": [ { "enrolledWithinDays": 30 }, { "lifetimeSpendAtLeast": 1000000 } ] }""";
        var member = new MemberState { EnrolledAt = Weekday.AddDays(-enrolledDaysAgo), LifetimeSpendMinor = lifetimeSpendMinor };
        Assert.Equal(fires, Fires(condition, member, Weekday));
    }

    [Theory]
    [InlineData(14, true)] // Wednesday
    [InlineData(17, false)] // Saturday
    [InlineData(18, false)] // Sunday
    public void Not_inverts_its_condition(int day, bool fires) =>
        Assert.Equal(fires, Fires("""{ "not": { "daysOfWeek": ["saturday", "sunday"] } }""", Utc(2026, 1, day, 12)));

    [Theory]
    [InlineData(new[] { "student" }, 14, Channel.Web, true)]
    [InlineData(new[] { "student" }, 17, Channel.Web, false)]
    [InlineData(new[] { "student" }, 14, Channel.Store, false)]
    [InlineData(new[] { "teacher" }, 17, Channel.Store, true)]
    [InlineData(new[] { "teacher" }, 17, Channel.MobileApp, false)]
    public void Compositions_nest(string[] segments, int day, Channel channel, bool fires)
    {
        const string condition = """
            { "any": [
                { "all": [ { "segments": ["student"] }, { "not": { "daysOfWeek": ["saturday", "sunday"] } }, { "channels": ["web"] } ] },
                { "all": [ { "segments": ["teacher"] }, { "not": { "channels": ["mobile_app", "web"] } } ] }
            ] }
            """;
        Assert.Equal(fires, Fires(condition, new MemberState { Segments = segments }, Utc(2026, 1, day, 12), channel));
    }

    [Theory]
    [InlineData("2026-01-09T22:59:59Z", false)] // Friday 23:59:59 in Paris (UTC+1)
    [InlineData("2026-01-09T23:00:00Z", true)] // Saturday 00:00
    [InlineData("2026-01-09T23:30:00Z", true)] // Friday 23:30 UTC is Saturday 00:30 in Paris
    [InlineData("2026-07-10T21:59:59Z", false)] // summer time (UTC+2): Friday 23:59:59
    [InlineData("2026-07-10T22:30:00Z", true)] // Saturday 00:30
    [InlineData("2026-01-10T22:59:59Z", true)] // Saturday 23:59:59
    [InlineData("2026-01-10T23:00:00Z", false)] // Sunday 00:00
    public void Days_of_the_week_are_local_days(string instant, bool fires) =>
        Assert.Equal(fires, Fires("""{ "daysOfWeek": ["Saturday"] }""", DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("2026-01-15T05:59:59Z", false)] // 06:59:59 in Paris (UTC+1)
    [InlineData("2026-01-15T06:00:00Z", true)] // 07:00, included
    [InlineData("2026-01-15T08:59:59Z", true)] // 09:59:59
    [InlineData("2026-01-15T09:00:00Z", false)] // 10:00, excluded
    [InlineData("2026-07-15T04:59:59Z", false)] // 06:59:59 in summer (UTC+2)
    [InlineData("2026-07-15T05:00:00Z", true)] // 07:00
    [InlineData("2026-07-15T08:00:00Z", false)] // 10:00
    public void Time_of_day_is_local_with_start_included_and_end_excluded(string instant, bool fires) =>
        Assert.Equal(fires, Fires("""{ "timeOfDay": { "from": "07:00", "to": "10:00" } }""", DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("2026-01-15T20:59:59Z", false)] // 21:59:59 in Paris
    [InlineData("2026-01-15T21:00:00Z", true)] // 22:00
    [InlineData("2026-01-15T23:30:00Z", true)] // 00:30 the next day
    [InlineData("2026-01-16T00:59:59Z", true)] // 01:59:59
    [InlineData("2026-01-16T01:00:00Z", false)] // 02:00
    [InlineData("2026-01-16T11:00:00Z", false)] // noon
    public void A_time_range_that_ends_before_it_starts_wraps_past_midnight(string instant, bool fires) =>
        Assert.Equal(fires, Fires("""{ "timeOfDay": { "from": "22:00", "to": "02:00" } }""", DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData(0, true)]
    [InlineData((30 * 86_400) - 1, true)]
    [InlineData(30 * 86_400, false)]
    public void Enrolled_within_days_counts_whole_days_back_from_the_purchase(int secondsAgo, bool fires)
    {
        var member = new MemberState { EnrolledAt = Weekday.AddSeconds(-secondsAgo) };
        Assert.Equal(fires, Fires("""{ "enrolledWithinDays": 30 }""", member, Weekday));
    }

    [Theory]
    [InlineData("2025-12-31T22:59:59Z", true)]
    [InlineData("2025-12-31T23:00:00Z", false)] // midnight in Paris
    public void Enrolled_before_is_a_local_date_time_of_the_program(string enrolledAt, bool fires)
    {
        var member = new MemberState { EnrolledAt = DateTimeOffset.Parse(enrolledAt, System.Globalization.CultureInfo.InvariantCulture) };
        Assert.Equal(fires, Fires("""{ "enrolledBefore": "2026-01-01T00:00" }""", member, Weekday));
    }

    [Theory]
    [InlineData(1_000_000, 1_000, true)]
    [InlineData(999_999, 1_000, false)]
    [InlineData(999_999, 500_000, false)] // this purchase's spend does not count
    public void Lifetime_spend_is_the_spend_before_this_purchase(long lifetimeSpendMinor, long basketMinor, bool fires)
    {
        var member = new MemberState { LifetimeSpendMinor = lifetimeSpendMinor };
        Assert.Equal(fires, Fires("""{ "lifetimeSpendAtLeast": 1000000 }""", member, Weekday, Channel.Store, Line(basketMinor)));
    }

    [Theory]
    [InlineData(new[] { "teacher" }, true)]
    [InlineData(new[] { "vip", "student" }, true)]
    [InlineData(new[] { "Student" }, false)]
    [InlineData(new string[0], false)]
    public void Segments_need_one_of_the_listed_segments_exactly(string[] segments, bool fires) =>
        Assert.Equal(fires, Fires("""{ "segments": ["student", "teacher"] }""", new MemberState { Segments = segments }, Weekday));

    [Theory]
    [InlineData("plus", 1, true)]
    [InlineData("plus", 0, false)] // expiring at the purchase instant is expired
    [InlineData("plus", -86_400, false)]
    [InlineData(null, 86_400, false)]
    public void A_membership_counts_only_until_it_expires(string? membership, int expiresInSeconds, bool fires)
    {
        var member = new MemberState { Membership = membership, MembershipExpiresAt = Weekday.AddSeconds(expiresInSeconds) };
        Assert.Equal(fires, Fires("""{ "membership": "plus" }""", member, Weekday));
    }

    [Theory]
    [InlineData(Channel.Web, true)]
    [InlineData(Channel.CallCenter, true)]
    [InlineData(Channel.Store, false)]
    [InlineData(Channel.Unspecified, false)]
    public void Channels_match_the_purchase_channel(Channel channel, bool fires) =>
        Assert.Equal(fires, Fires("""{ "channels": ["web", "call_center"] }""", new MemberState(), Weekday, channel));

    [Fact]
    public void Basket_contains_needs_one_matching_line()
    {
        const string condition = """{ "basketContains": { "brands": ["acme"] } }""";
        Assert.True(Fires(condition, new MemberState(), Weekday, Channel.Store, Line(100), Line(100, brand: "acme")));
        Assert.False(Fires(condition, new MemberState(), Weekday, Channel.Store, Line(100), Line(100, brand: "acme-2")));
    }
}
