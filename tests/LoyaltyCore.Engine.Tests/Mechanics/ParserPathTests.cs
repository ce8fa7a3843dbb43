using LoyaltyCore.Engine.Programs;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>Every field of the program reports a value of the wrong kind under its own path, with its own rule.</summary>
public sealed class ParserPathTests
{
    private const string Rule = """{ "id": "r", "type": "bonus", "points": 1 }""";

    public static TheoryData<string, string> WrongValues => new()
    {
        { """ "currencyExponent": "2" """, "currencyExponent: a whole number from 0 to 4" },
        { """ "autoEnroll": "yes" """, "autoEnroll: true or false" },
        { """ "bogus": 1 """, "bogus: unknown field" },
        { """ "earn": { "points": 1, "perMinor": 100, "minimumSpend": "x" } """, "earn.minimumSpend: a whole number, at least 0" },
        { """ "earn": { "points": 1, "perMinor": 100, "rounding": "bankers" } """, "earn.rounding: one of floor, ceiling, half_up, half_even" },
        { """ "exclusions": [] """, "exclusions: an object" },
        { """ "exclusions": { "categories": "gift-card" } """, "exclusions.categories: an array of non-empty strings" },
        { """ "exclusions": { "skus": [1] } """, "exclusions.skus: an array of non-empty strings" },
        { """ "exclusions": { "labels": [] } """, "exclusions.labels: an object" },
        { """ "caps": [] """, "caps: an object" },
        { """ "caps": { "perTransaction": -1 } """, "caps.perTransaction: a whole number, at least 0" },
        { """ "caps": { "perMemberPerDay": "x" } """, "caps.perMemberPerDay: a whole number, at least 0" },
        { """ "tiers": [] """, "tiers: at least one tier is required" },
        { """ "tiers": [ { "id": "member", "threshold": 0, "name": "" } ] """, "tiers[0].name: a non-empty string" },
        { """ "tiers": [ { "id": "member", "threshold": 0, "rank": 1 } ] """, "tiers[0].rank: unknown field" },
        { """ "tiers": [ { "threshold": 0 } ] """, "tiers[0].id: required" },
        { """ "tierQualification": [] """, "tierQualification: an object" },
        { """ "tierQualification": { "metric": 1 } """, "tierQualification.metric: a non-empty string" },
        { """ "tierQualification": { "period": 1 } """, "tierQualification.period: a non-empty string" },
        { """ "tierQualification": { "period": "weekly" } """, "tierQualification.period: one of lifetime, rolling, calendarYear, sinceLastTierChange" },
        { """ "tierQualification": { "period": "rolling", "months": 25 } """, "tierQualification.months: a whole number from 1 to 24" },
        { """ "tierQualification": { "period": "rolling", "review": "13-01" } """, "tierQualification.review: a month and day, MM-DD" },
        { """ "tierQualification": { "downgrade": 1 } """, "tierQualification.downgrade: a non-empty string" },
        { """ "tierQualification": { "period": "rolling", "review": "01-01", "reviewReset": 1 } """, "tierQualification.reviewReset: a non-empty string" },
        { """ "memberships": {} """, "memberships: an array" },
        { """ "memberships": [ { "id": "p", "priceMinor": 1, "durationDays": 1 }, { "id": "p", "priceMinor": 2, "durationDays": 2 } ] """, "memberships[1].id: duplicate membership id 'p'" },
        { """ "memberships": [ { "id": "p", "name": "", "priceMinor": 1, "durationDays": 1 } ] """, "memberships[0].name: a non-empty string" },
        { """ "memberships": [ { "id": "p", "priceMinor": 1, "durationDays": 1, "multiplier": 0 } ] """, "memberships[0].multiplier: a number between 1 and 100 with at most 4 decimals" },
        { """ "memberships": [ 5 ] """, "memberships[0]: an object" },
        { """ "campaigns": {} """, "campaigns: an array" },
        { """ "campaigns": [ 5 ] """, "campaigns[0]: an object" },
        { $$""" "campaigns": [ { "id": "c", "stores": "paris", "rules": [ {{Rule}} ] } ] """, "campaigns[0].stores: an array of non-empty strings" },
        { $$""" "campaigns": [ { "id": "c", "channels": ["fax"], "rules": [ {{Rule}} ] } ] """, "campaigns[0].channels: unknown channel 'fax' (store, web, mobile_app, partner, call_center)" },
        { $$""" "campaigns": [ { "id": "c", "segments": [""], "rules": [ {{Rule}} ] } ] """, "campaigns[0].segments: an array of non-empty strings" },
        { $$""" "campaigns": [ { "id": "c", "budget": -5, "rules": [ {{Rule}} ] } ] """, "campaigns[0].budget: a whole number, at least 0" },
        { $$""" "campaigns": [ { "id": "c", "perMemberCap": "x", "rules": [ {{Rule}} ] } ] """, "campaigns[0].perMemberCap: a whole number, at least 0" },
        { $$""" "campaigns": [ { "id": "c", "name": "", "rules": [ {{Rule}} ] } ] """, "campaigns[0].name: a non-empty string" },
        { """ "campaigns": [ { "id": "c", "rules": [] } ] """, "campaigns[0].rules: a campaign needs at least one rule" },
        { """ "rules": {} """, "rules: an array" },
        { """ "rules": [ 5 ] """, "rules[0]: an object" },
        { """ "rules": [ { "id": "r", "name": "", "type": "bonus", "points": 1 } ] """, "rules[0].name: a non-empty string" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "stop": "yes" } ] """, "rules[0].stop: true or false" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 100.5 } ] """, "rules[0].factor: a number between 1 and 100 with at most 4 decimals" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": { "categories": "x" } } ] """, "rules[0].lines.categories: an array of non-empty strings" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": { "brands": "x" } } ] """, "rules[0].lines.brands: an array of non-empty strings" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": { "skus": "x" } } ] """, "rules[0].lines.skus: an array of non-empty strings" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": { "colour": ["x"] } } ] """, "rules[0].lines.colour: unknown field" },
        { """ "rules": [ { "id": "r", "type": "multiplier", "factor": 2, "lines": [] } ] """, "rules[0].lines: an object" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": [] } ] """, "rules[0].window: an object" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": { "end": "2026-01-02T00:00" } } ] """, "rules[0].window.start: required" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": { "start": "2026-01-02T00:00" } } ] """, "rules[0].window.end: required" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": { "start": "2026-01-02T25:00", "end": "2026-01-03T00:00" } } ] """, "rules[0].window.start: a local date or date-time, yyyy-MM-dd[THH:mm[:ss]] (the time zone is separate)" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "channels": [] } } ] """, "rules[0].when.channels: a non-empty array of channels" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "tiers": [] } } ] """, "rules[0].when.tiers: a non-empty array of tier ids" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "membership": 5 } } ] """, "rules[0].when.membership: a non-empty string" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "enrolledBefore": 5 } } ] """, "rules[0].when.enrolledBefore: a non-empty string" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "enrolledBefore": "yesterday" } } ] """, "rules[0].when.enrolledBefore: a local date or date-time, yyyy-MM-dd[THH:mm[:ss]] (the time zone is separate)" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "nthPurchase": { "period": "day" } } } ] """, "rules[0].when.nthPurchase.n: required" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "nthPurchase": { "n": 2, "period": "day", "x": 1 } } } ] """, "rules[0].when.nthPurchase.x: unknown field" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "08:00" } } } ] """, "rules[0].when.timeOfDay.to: required" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "8h", "to": "09:00" } } } ] """, "rules[0].when.timeOfDay.from: a time of day, HH:mm" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "daysOfWeek": ["sunday", "sunday"] } } ] """, "rules[0].when.daysOfWeek: 'sunday' is listed twice" },
        { """ "events": {} """, "events: an array" },
        { """ "events": [ 5 ] """, "events[0]: an event name: 1-64 characters of letters, digits, '.', '_', ':' or '-'" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "review_posted", "points": 1, "lines": { "skus": ["a"] } } ] """, "rules[0].lines: not used by event rules" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "review_posted", "points": 1, "minimumSpend": 5 } ] """, "rules[0].minimumSpend: not used by event rules" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "review_posted" } ] """, "rules[0].points: required" },
        { """ "rules": [ { "type": "event", "event": "review_posted", "points": 1 } ] """, "rules[0].id: required" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "review_posted", "points": 1, "limit": [] } ] """, "rules[0].limit: an object" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "review_posted", "points": 1, "limit": { "count": 1, "every": "day" } } ] """, "rules[0].limit.every: unknown field" },
        { """ "rules": [ { "id": "r", "type": "event", "event": "tier_reached", "points": 1, "reached": "gold" } ] """, "rules[0].reached: an array of non-empty strings" },
        { """ "objectives": {} """, "objectives: an array" },
        { """ "objectives": [ 5 ] """, "objectives[0]: an object" },
        { """ "objectives": [ { "steps": [ { "percent": 100, "points": 1 } ] } ] """, "objectives[0].id: required" },
        { """ "objectives": [ { "id": "o", "name": "", "steps": [ { "percent": 100, "points": 1 } ] } ] """, "objectives[0].name: a non-empty string" },
        { """ "objectives": [ { "id": "o", "steps": [] } ] """, "objectives[0].steps: at least one step is required" },
        { """ "objectives": [ { "id": "o", "steps": [ 5 ] } ] """, "objectives[0].steps[0]: an object" },
        { """ "objectives": [ { "id": "o", "steps": [ { "percent": 100 } ] } ] """, "objectives[0].steps[0].points: required" },
        { """ "referral": [] """, "referral: an object" },
        { """ "referral": { "referrerPoints": 1, "refereePoints": 1, "minimumSpend": "x" } """, "referral.minimumSpend: a whole number, at least 0" },
    };

    [Theory]
    [MemberData(nameof(WrongValues))]
    public void A_wrong_value_is_reported_under_its_own_path(string section, string error)
    {
        Assert.Contains(error, Errors(Document(section)));
    }

    [Fact]
    public void Not_json_at_all_is_reported_at_the_root()
    {
        var error = Assert.Single(Errors("{ not json"));

        Assert.StartsWith("$: not valid JSON (", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_that_is_not_an_object_is_reported_at_the_root()
    {
        Assert.Equal(["$: an object"], Errors("[]"));
    }

    [Theory]
    [InlineData(""" "rules": [ { "id": "r", "type": "multiplier", "factor": 100 } ] """)]
    [InlineData(""" "currencyExponent": 4 """)]
    [InlineData(""" "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "nthPurchase": { "n": 10000, "period": "year" } } } ] """)]
    [InlineData(""" "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "08:00:30", "to": "09:00" } } } ] """)]
    [InlineData(""" "rules": [ { "id": "e", "type": "event", "event": "review_posted", "points": 1 }, { "id": "r", "type": "bonus", "points": 1, "when": { "channels": ["store"] } } ] """)]
    public void Values_at_their_bounds_and_purchase_conditions_after_an_event_rule_are_accepted(string section)
    {
        Assert.NotNull(ProgramParser.Parse(Document(section)));
    }

    [Fact]
    public void An_event_rule_without_a_name_is_named_after_its_points_and_event()
    {
        var program = Program("""
            "rules": [ { "id": "r", "type": "event", "event": "review_posted", "points": 20 } ]
            """);

        Assert.Equal("20 points for review_posted", program.RecordEvent(Member(), "review_posted", Utc(2026, 3, 10)).LineFor("r").Reason);
    }

    [Fact]
    public void A_stored_version_with_a_day_given_twice_still_holds_on_that_day()
    {
        var document = Json("""
            "rules": [ { "id": "r", "type": "bonus", "points": 3, "when": { "daysOfWeek": ["tuesday", "tuesday"] } } ]
            """);

        var outcome = ProgramParser.Parse(document, stored: true).Score(Member(), BasketAt(Utc(2026, 3, 10), Line(1_000)));

        Assert.Equal(3, outcome.LineFor("r").Points);
    }

    /// <summary>The standard document with <paramref name="section"/> replacing or adding top-level members.</summary>
    private static string Document(string section)
    {
        var document = System.Text.Json.Nodes.JsonNode.Parse(Json())!.AsObject();
        foreach (var (name, value) in System.Text.Json.Nodes.JsonNode.Parse("{" + section + "}")!.AsObject().ToList())
        {
            document[name] = value?.DeepClone();
        }

        return document.ToJsonString();
    }
}
