using LoyaltyCore.Engine.Programs;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

/// <summary>Every section of the program refuses what it does not know and asks for what it needs.</summary>
public sealed class ParserCompletenessTests
{
    public static TheoryData<string, string> UnknownFields => new()
    {
        { """ "earn": { "points": 1, "perMinor": 100, "rate": 2 } """, "earn.rate: unknown field" },
        { """ "exclusions": { "brands": ["x"] } """, "exclusions.brands: unknown field" },
        { """ "caps": { "perMonth": 10 } """, "caps.perMonth: unknown field" },
        { """ "tierQualification": { "metric": "spend", "reset": true } """, "tierQualification.reset: unknown field" },
        { """ "memberships": [ { "id": "p", "priceMinor": 1, "durationDays": 1, "color": "red" } ] """, "memberships[0].color: unknown field" },
        { """ "campaigns": [ { "id": "c", "owner": "x", "rules": [ { "id": "r", "type": "bonus", "points": 1 } ] } ] """, "campaigns[0].owner: unknown field" },
        { """ "objectives": [ { "id": "o", "target": 1, "steps": [ { "percent": 100, "points": 1 } ] } ] """, "objectives[0].target: unknown field" },
        { """ "objectives": [ { "id": "o", "steps": [ { "percent": 100, "points": 1, "bonus": 2 } ] } ] """, "objectives[0].steps[0].bonus: unknown field" },
        { """ "referral": { "referrerPoints": 1, "refereePoints": 1, "cap": 3 } """, "referral.cap: unknown field" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": { "start": "2026-01-01T00:00", "stop": "x" } } ] """, "rules[0].window.stop: unknown field" },
        { """ "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "08:00", "to": "09:00", "tz": "UTC" } } } ] """, "rules[0].when.timeOfDay.tz: unknown field" },
    };

    [Theory]
    [MemberData(nameof(UnknownFields))]
    public void An_unknown_field_in_any_section_is_reported_with_its_path(string section, string error)
    {
        Assert.Contains(error, Errors(Document(section)));
    }

    public static TheoryData<string, string> MissingFields => new()
    {
        { """ "earn": { "perMinor": 100 } """, "earn.points: required" },
        { """ "earn": { "points": 1 } """, "earn.perMinor: required" },
        { """ "memberships": [ { "id": "p", "durationDays": 1 } ] """, "memberships[0].priceMinor: required" },
        { """ "memberships": [ { "id": "p", "priceMinor": 1 } ] """, "memberships[0].durationDays: required" },
        { """ "memberships": [ { "priceMinor": 1, "durationDays": 1 } ] """, "memberships[0].id: required" },
        { """ "campaigns": [ { "id": "c" } ] """, "campaigns[0].rules: required" },
        { """ "campaigns": [ { "rules": [ { "id": "r", "type": "bonus", "points": 1 } ] } ] """, "campaigns[0].id: required" },
        { """ "objectives": [ { "id": "o" } ] """, "objectives[0].steps: required" },
        { """ "objectives": [ { "id": "o", "steps": [ { "points": 1 } ] } ] """, "objectives[0].steps[0].percent: required" },
        { """ "referral": { "refereePoints": 1 } """, "referral.referrerPoints: required" },
        { """ "referral": { "referrerPoints": 1 } """, "referral.refereePoints: required" },
        { """ "rules": [ { "id": "r", "points": 1 } ] """, "rules[0].type: required" },
        { """ "rules": [ { "type": "bonus", "points": 1 } ] """, "rules[0].id: required" },
        { """ "rules": [ { "id": "r", "type": "bonus" } ] """, "rules[0].points: required" },
        { """ "rules": [ { "id": "r", "type": "multiplier" } ] """, "rules[0].factor: required" },
    };

    [Theory]
    [MemberData(nameof(MissingFields))]
    public void A_missing_required_field_in_any_section_is_reported_with_its_path(string section, string error)
    {
        Assert.Contains(error, Errors(Document(section)));
    }

    [Theory]
    [InlineData("id", "id: required")]
    [InlineData("version", "version: required")]
    [InlineData("currency", "currency: required")]
    [InlineData("earn", "earn: required")]
    [InlineData("tiers", "tiers: required")]
    public void The_header_fields_are_required(string field, string error)
    {
        var document = System.Text.Json.Nodes.JsonNode.Parse(Json())!.AsObject();
        document.Remove(field);

        Assert.Contains(error, Errors(document.ToJsonString()));
    }

    [Fact]
    public void Auto_enrolment_is_off_unless_the_program_turns_it_on()
    {
        Assert.False(Program().AutoEnroll);
        Assert.True(ProgramParser.Parse(Json().Replace("\"id\": \"mechanics\",", "\"id\": \"mechanics\", \"autoEnroll\": true,", StringComparison.Ordinal)).AutoEnroll);
    }

    [Fact]
    public void Comments_and_trailing_commas_are_allowed()
    {
        var program = ProgramParser.Parse("""
            {
              // a comment
              "id": "p", "version": "1", "currency": "EUR",
              "earn": { "points": 1, "perMinor": 100, },
              "tiers": [ { "id": "member", "threshold": 0 }, ],
              "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "daysOfWeek": ["monday", "friday",] } }, ],
            }
            """);

        Assert.Single(program.Rules);
    }

    [Theory]
    [InlineData("""{ "daysOfWeek": ["monday", "friday", "monday"] }""", "rules[0].when.daysOfWeek: 'monday' is listed twice")]
    [InlineData("""{ "channels": ["store", "web", "store"] }""", "rules[0].when.channels: 'store' is listed twice")]
    [InlineData("""{ "stores": ["paris-01", "paris-01"] }""", "rules[0].when.stores: 'paris-01' is listed twice")]
    public void An_entry_listed_twice_is_reported(string condition, string error)
    {
        Assert.Contains(error, Errors(Json($$"""
            "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": {{condition}} } ]
            """)));
    }

    [Fact]
    public void A_day_given_twice_in_another_case_is_reported()
    {
        Assert.Contains("rules[0].when.daysOfWeek: 'Monday' is listed twice", Errors(Json("""
            "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "daysOfWeek": ["monday", "Monday"] } } ]
            """)));
    }

    [Fact]
    public void A_stored_version_with_a_repeated_entry_or_an_empty_range_still_loads_with_its_old_meaning()
    {
        var document = Json("""
            "rules": [
              { "id": "twice", "type": "bonus", "points": 1, "when": { "channels": ["store", "store"] } },
              { "id": "never", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "08:00", "to": "08:00" } } }
            ]
            """);

        Assert.Equal(2, Errors(document).Count);
        var stored = ProgramParser.Parse(document, stored: true);
        var outcome = stored.Score(Member(), BasketAt(Utc(2026, 3, 10, 8, 0), Line(1_000)));

        // The repeated channel counts once; the empty range never holds, as before these checks existed.
        Assert.Equal([("base-earn", 10L), ("twice", 1L)], outcome.Lines());
    }

    [Fact]
    public void A_stored_version_still_gets_every_other_check()
    {
        var errors = Assert.Throws<ProgramValidationException>(() => ProgramParser.Parse(Json("""
            "rules": [ { "id": "r", "type": "bonus", "points": 0 } ]
            """), stored: true)).Errors;

        Assert.Equal(["rules[0].points: a whole number from 1 to 100000000"], errors);
    }

    [Theory]
    [InlineData("""{ "id": "r", "type": "bonus", "points": 1, "event": "review_posted" }""", "rules[0].event: only for event rules")]
    [InlineData("""{ "id": "r", "type": "multiplier", "factor": 2, "limit": { "count": 1 } }""", "rules[0].limit: only for event rules")]
    public void Purchase_rules_refuse_the_fields_of_event_rules(string rule, string error)
    {
        Assert.Contains(error, Errors(Json($$"""
            "rules": [ {{rule}} ]
            """)));
    }

    [Fact]
    public void An_id_with_a_trailing_newline_is_not_an_id()
    {
        Assert.Contains("rules[0].id: 1-64 characters of letters, digits, '.', '_', ':' or '-'", Errors(Json("""
            "rules": [ { "id": "r\n", "type": "bonus", "points": 1 } ]
            """)));
    }

    [Fact]
    public void A_time_of_day_range_from_a_time_to_itself_is_invalid()
    {
        Assert.Contains("rules[0].when.timeOfDay: from and to must differ (leave the condition out for the whole day)", Errors(Json("""
            "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": { "timeOfDay": { "from": "08:00", "to": "08:00" } } } ]
            """)));
    }

    /// <summary>The standard document with <paramref name="section"/> replacing or adding one top-level member.</summary>
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
