using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Mechanics;

public sealed class ValidationTests
{
    private const string Reserved = "(rule ids are unique; base-earn, referral, tier:* and membership:* are reserved)";

    private static string OnlyError(string sections, string timeZone = "UTC") => Assert.Single(Errors(Json(sections, timeZone)));

    private static string RuleWhen(string condition) =>
        $$""" "rules": [ { "id": "r", "type": "bonus", "points": 1, "when": {{condition}} } ] """;

    [Fact]
    public void A_window_that_ends_before_it_starts_is_named_by_rule_index()
    {
        var error = OnlyError("""
            "rules": [
              { "id": "a", "type": "bonus", "points": 1 },
              { "id": "b", "type": "bonus", "points": 1 },
              { "id": "c", "type": "bonus", "points": 1 },
              { "id": "d", "type": "bonus", "points": 1, "window": { "start": "2026-11-30T00:00", "end": "2026-11-27T00:00" } }
            ]
            """);

        Assert.Equal("rules[3].window.end: before start", error);
    }

    [Fact]
    public void An_empty_window_is_refused() =>
        Assert.Equal("campaigns[0].window.end: before start", OnlyError("""
            "campaigns": [ { "id": "c", "window": { "start": "2026-11-27T10:00", "end": "2026-11-27T10:00:00" },
              "rules": [ { "id": "r", "type": "bonus", "points": 1 } ] } ]
            """));

    [Fact]
    public void A_window_date_time_must_be_local_and_well_formed() =>
        Assert.Equal(
            "rules[0].window.start: a local date or date-time, yyyy-MM-dd[THH:mm[:ss]] (the time zone is separate)",
            OnlyError("""
                "rules": [ { "id": "r", "type": "bonus", "points": 1, "window": { "start": "2026-11-27T00:00+01:00", "end": "2026-11-30" } } ]
                """));

    [Fact]
    public void An_unknown_rule_type_inside_a_campaign_names_both_indexes() =>
        Assert.Equal("campaigns[0].rules[1].type: one of multiplier, bonus, event", OnlyError("""
            "campaigns": [ { "id": "c", "rules": [
              { "id": "r1", "type": "bonus", "points": 1 },
              { "id": "r2", "type": "points", "points": 1 } ] } ]
            """));

    [Fact]
    public void An_unknown_condition_key_is_refused() =>
        Assert.Equal("rules[0].when.weekday: unknown condition", OnlyError(RuleWhen("""{ "weekday": ["monday"] }""")));

    [Fact]
    public void An_unknown_condition_key_deep_in_a_composition_names_its_full_path() =>
        Assert.Equal(
            "campaigns[0].rules[0].when.all[1].not.dayOfWeek: unknown condition",
            OnlyError("""
                "campaigns": [ { "id": "c", "rules": [ { "id": "r", "type": "bonus", "points": 1,
                  "when": { "all": [ { "channels": ["web"] }, { "not": { "dayOfWeek": ["sunday"] } } ] } } ] } ]
                """));

    [Fact]
    public void A_condition_with_two_keys_is_refused() =>
        Assert.StartsWith(
            "rules[0].when: a condition has exactly one key (all, any, not, ",
            OnlyError(RuleWhen("""{ "channels": ["web"], "stores": ["s1"] }""")),
            StringComparison.Ordinal);

    [Fact]
    public void An_unknown_tier_in_a_tier_condition_is_refused() =>
        Assert.Equal("rules[0].when.tiers: unknown tier 'platinum'", OnlyError(RuleWhen("""{ "tiers": ["gold", "platinum"] }""")));

    [Fact]
    public void An_unknown_membership_in_a_condition_is_refused() =>
        Assert.Equal(
            "rules[0].when.membership: unknown membership 'vip' (declare memberships before rules use them)",
            OnlyError(RuleWhen("""{ "membership": "vip" }""")));

    [Theory]
    [InlineData("fax")]
    [InlineData("unspecified")]
    public void An_unknown_channel_is_refused(string channel) =>
        Assert.Equal(
            $"rules[0].when.channels: unknown channel '{channel}' (store, web, mobile_app, partner, call_center)",
            OnlyError(RuleWhen($$"""{ "channels": ["web", "{{channel}}"] }""")));

    [Theory]
    [InlineData("funday")]
    [InlineData("3")]
    public void An_unknown_day_of_the_week_is_refused(string day) =>
        Assert.Equal($"rules[0].when.daysOfWeek: '{day}' is not a day of the week", OnlyError(RuleWhen($$"""{ "daysOfWeek": ["friday", "{{day}}"] }""")));

    [Fact]
    public void A_time_of_day_must_be_hours_and_minutes()
    {
        var errors = Errors(Json(RuleWhen("""{ "timeOfDay": { "from": "7am" } }""")));

        Assert.Equal(["rules[0].when.timeOfDay.from: a time of day, HH:mm", "rules[0].when.timeOfDay.to: required"], errors);
    }

    [Fact]
    public void An_nth_purchase_period_must_be_known() =>
        Assert.Equal(
            "rules[0].when.nthPurchase.period: one of day, week, month, year",
            OnlyError(RuleWhen("""{ "nthPurchase": { "n": 5, "period": "fortnight" } }""")));

    [Fact]
    public void First_purchase_false_is_refused_in_favour_of_not() =>
        Assert.Equal("rules[0].when.firstPurchase: true (use not for the opposite)", OnlyError(RuleWhen("""{ "firstPurchase": false }""")));

    [Theory]
    [InlineData("""{ "all": [] }""", "rules[0].when.all: a non-empty array of conditions")]
    [InlineData("""{ "any": {} }""", "rules[0].when.any: a non-empty array of conditions")]
    [InlineData("""{ "stores": [] }""", "rules[0].when.stores: a non-empty array of store ids")]
    [InlineData("""{ "segments": [] }""", "rules[0].when.segments: a non-empty array of segments")]
    [InlineData("""{ "daysOfWeek": [] }""", "rules[0].when.daysOfWeek: a non-empty array of days (monday...sunday)")]
    [InlineData("""{ "basketTotalAtLeast": -1 }""", "rules[0].when.basketTotalAtLeast: a whole number, at least 0")]
    [InlineData("""{ "enrolledWithinDays": 0 }""", "rules[0].when.enrolledWithinDays: a whole number from 1 to 36500")]
    public void Empty_or_out_of_range_conditions_are_refused(string condition, string expected) =>
        Assert.Equal(expected, OnlyError(RuleWhen(condition)));

    [Fact]
    public void An_unknown_program_time_zone_is_refused() =>
        Assert.Equal(
            "timeZone: unknown time zone 'Mars/Olympus' (use an IANA name such as Europe/Paris)",
            OnlyError(string.Empty, "Mars/Olympus"));

    [Fact]
    public void An_unknown_campaign_window_time_zone_is_refused() =>
        Assert.Equal(
            "campaigns[0].window.timeZone: unknown time zone 'Europe/Atlantis' (use an IANA name such as Europe/Paris)",
            OnlyError("""
                "campaigns": [ { "id": "c", "window": { "start": "2026-11-27", "end": "2026-11-30", "timeZone": "Europe/Atlantis" },
                  "rules": [ { "id": "r", "type": "bonus", "points": 1 } ] } ]
                """));

    [Fact]
    public void A_time_zone_name_that_is_a_folder_of_the_zone_database_is_refused_as_unknown()
    {
        // "Europe" names a directory of the IANA database, not a zone; it must come back as a validation message.
        var errors = Errors(Json(timeZone: "Europe"));

        Assert.Equal(["timeZone: unknown time zone 'Europe' (use an IANA name such as Europe/Paris)"], errors);
    }

    [Fact]
    public void Duplicate_rule_ids_are_refused_across_rules_and_campaigns()
    {
        var errors = Errors(Json("""
            "rules": [ { "id": "dup", "type": "bonus", "points": 1 }, { "id": "dup", "type": "bonus", "points": 2 } ],
            "campaigns": [ { "id": "c", "rules": [ { "id": "dup", "type": "bonus", "points": 3 } ] } ]
            """));

        Assert.Equal([$"rules[1].id: 'dup' is already used {Reserved}", $"campaigns[0].rules[0].id: 'dup' is already used {Reserved}"], errors);
    }

    [Theory]
    [InlineData("base-earn")]
    [InlineData("referral")]
    [InlineData("tier:gold")]
    [InlineData("membership:plus")]
    public void Reserved_rule_ids_are_refused(string id) =>
        Assert.Equal($"rules[0].id: '{id}' is already used {Reserved}", OnlyError($$""" "rules": [ { "id": "{{id}}", "type": "bonus", "points": 1 } ] """));

    [Fact]
    public void Duplicate_campaign_ids_are_refused() =>
        Assert.Equal("campaigns[1].id: duplicate campaign id 'bf'", OnlyError("""
            "campaigns": [
              { "id": "bf", "rules": [ { "id": "r1", "type": "bonus", "points": 1 } ] },
              { "id": "bf", "rules": [ { "id": "r2", "type": "bonus", "points": 1 } ] }
            ]
            """));

    [Fact]
    public void A_campaign_needs_rules()
    {
        var errors = Errors(Json("""
            "campaigns": [ { "id": "empty", "rules": [] }, { "id": "missing" } ]
            """));

        Assert.Equal(["campaigns[0].rules: a campaign needs at least one rule", "campaigns[1].rules: required"], errors);
    }

    [Fact]
    public void Rule_fields_are_checked_with_their_paths()
    {
        var errors = Errors(Json("""
            "rules": [
              { "id": "m", "type": "multiplier", "factor": 0.5 },
              { "id": "b", "type": "bonus", "points": 0 },
              { "id": "f", "type": "multiplier", "factor": 2, "lines": {} },
              { "id": "u", "type": "bonus", "points": 1, "factr": 2 }
            ]
            """));

        Assert.Equal(
            [
                "rules[0].factor: a number between 1 and 100 with at most 4 decimals",
                "rules[1].points: a whole number from 1 to 100000000",
                "rules[2].lines: name at least one of categories, brands, skus, labels, exceptLabels",
                "rules[3].factr: unknown field",
            ],
            errors);
    }

    [Fact]
    public void A_review_needs_a_period_that_can_go_down() =>
        Assert.Equal(
            "tierQualification.review: a review needs a rolling or calendarYear period, or the balance metric (lifetime values never go down)",
            OnlyError(""" "tierQualification": { "review": "01-01" } """));

    [Fact]
    public void A_review_date_must_exist() =>
        Assert.Equal("tierQualification.review: a month and day, MM-DD", OnlyError(""" "tierQualification": { "period": "calendarYear", "review": "13-01" } """));

    [Fact]
    public void Objective_steps_must_increase_and_their_rule_ids_must_be_unique()
    {
        var errors = Errors(Json("""
            "objectives": [
              { "id": "ca", "steps": [ { "percent": 110, "points": 1 }, { "percent": 100, "points": 1 } ] },
              { "id": "ca", "steps": [ { "percent": 110, "points": 1 } ] }
            ]
            """));

        Assert.Equal(
            [
                "objectives[0].steps[1].percent: steps must be in increasing order of percent",
                "objectives[1].steps[0].percent: rule id 'ca@110' is already used",
            ],
            errors);
    }

    [Fact]
    public void Every_problem_of_a_document_is_reported_at_once()
    {
        var errors = Errors(Json(
            """
            "rules": [
              { "id": "r", "type": "bonus", "points": 1, "when": { "tiers": ["platinum"] } },
              { "id": "r", "type": "boost", "points": 1 }
            ]
            """,
            "Nowhere/City"));

        Assert.Equal(
            [
                "timeZone: unknown time zone 'Nowhere/City' (use an IANA name such as Europe/Paris)",
                "rules[0].when.tiers: unknown tier 'platinum'",
                $"rules[1].id: 'r' is already used {Reserved}",
                "rules[1].type: one of multiplier, bonus, event",
            ],
            errors);
    }

    [Theory]
    [InlineData("tiers")]
    [InlineData("channels")]
    public void An_empty_list_condition_is_refused_rather_than_dropped(string key)
    {
        // Dropping it would make the rule fire for every tier or channel.
        var errors = Errors(Json(RuleWhen($$"""{ "{{key}}": [] }""")));

        Assert.Contains(errors, e => e.StartsWith($"rules[0].when.{key}: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("basketTotalAtLeast")]
    [InlineData("enrolledWithinDays")]
    [InlineData("lifetimeSpendAtLeast")]
    public void A_null_threshold_condition_is_refused_rather_than_dropped(string key)
    {
        var errors = Errors(Json(RuleWhen($$"""{ "{{key}}": null }""")));

        Assert.Contains(errors, e => e.StartsWith($"rules[0].when.{key}: ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("monday,tuesday")]
    [InlineData("saturday, sunday")]
    public void A_comma_separated_day_list_inside_one_string_is_refused(string days) =>
        Assert.Equal($"rules[0].when.daysOfWeek: '{days}' is not a day of the week", OnlyError(RuleWhen($$"""{ "daysOfWeek": ["{{days}}"] }""")));
}
