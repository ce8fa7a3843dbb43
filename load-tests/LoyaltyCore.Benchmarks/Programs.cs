namespace LoyaltyCore.Benchmarks;

/// <summary>
/// Program documents for the benchmarks, in the format <c>ProgramParser</c> reads (docs/PROGRAM.md). Both share the
/// same header (earn, exclusions, caps, tiers, membership, objective, referral) so the difference between them is
/// the rules and campaigns alone.
/// </summary>
/// <remarks>
/// The basket they are scored against (see <see cref="Purchase"/>): Saturday 2026-11-28 14:30 in Paris, in store
/// paris-01, five lines (grocery/acme, beverages/fizz, electronics/volt, tobacco/smokeco which is excluded,
/// beauty/glow), 155.18 EUR of which 144.68 earn; a silver member holding the plus membership, segments students and
/// newsletter, on their third purchase of the month.
/// </remarks>
internal static class Programs
{
    public const string BlackFriday = "black-friday-2026";
    public const string WinterBeauty = "winter-beauty";
    public const string AppWeekend = "app-weekend";

    /// <summary>
    /// 35 program rules and 3 campaigns of 6, 5 and 4 rules: 50 rules, 17 of which fire on the basket (13 program
    /// rules, 2 Black Friday rules, 2 winter beauty rules; the app campaign is not live in a store).
    /// </summary>
    public static string FiftyRules() => Document(
        """
        [
          { "id": "m-grocery", "type": "multiplier", "factor": 2, "lines": { "categories": ["grocery"], "labels": { "origin": ["*"] } } },
          { "id": "m-beverages-weekday", "type": "multiplier", "factor": 1.5, "lines": { "categories": ["beverages"] },
            "when": { "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"] } },
          { "id": "m-electronics-big", "type": "multiplier", "factor": 1.25, "lines": { "categories": ["electronics"] },
            "when": { "basketTotalAtLeast": 20000 } },
          { "id": "m-garden", "type": "multiplier", "factor": 3, "lines": { "categories": ["garden", "outdoor"] } },
          { "id": "m-toys", "type": "multiplier", "factor": 2, "lines": { "labels": { "season": ["summer"] } } },
          { "id": "m-brand-acme", "type": "multiplier", "factor": 1.5, "lines": { "brands": ["acme"] } },
          { "id": "m-brand-volt-gold", "type": "multiplier", "factor": 2, "lines": { "brands": ["volt", "ampere"] },
            "when": { "tiers": ["gold", "platinum"] } },
          { "id": "m-brand-glow-online", "type": "multiplier", "factor": 1.5, "lines": { "brands": ["glow"] },
            "when": { "channels": ["web", "mobile_app"] } },
          { "id": "m-sku-3003", "type": "multiplier", "factor": 1.1, "lines": { "skus": ["SKU-3003"] } },
          { "id": "m-sku-promo", "type": "multiplier", "factor": 5, "lines": { "labels": { "promo": ["BF24", "XMAS24"] }, "exceptLabels": { "clearance": ["*"] } } },
          { "id": "m-channel-app", "type": "multiplier", "factor": 1.2, "when": { "channels": ["mobile_app"] } },
          { "id": "m-channel-store", "type": "multiplier", "factor": 1.05, "when": { "channels": ["store"] } },
          { "id": "m-store-flagship", "type": "multiplier", "factor": 1.5, "when": { "stores": ["paris-01", "lyon-02"] } },
          { "id": "m-store-outlet", "type": "multiplier", "factor": 2, "when": { "stores": ["outlet-01", "outlet-02"] } },
          { "id": "m-gold-beauty", "type": "multiplier", "factor": 2, "lines": { "categories": ["beauty"] },
            "when": { "tiers": ["gold", "platinum"] } },
          { "id": "m-silver-grocery", "type": "multiplier", "factor": 1.25, "lines": { "categories": ["grocery", "beverages"] },
            "when": { "tiers": ["silver"] } },
          { "id": "m-platinum-all", "type": "multiplier", "factor": 1.5, "when": { "tiers": ["platinum"] } },
          { "id": "m-plus-beauty", "type": "multiplier", "factor": 1.5, "lines": { "categories": ["beauty"] },
            "when": { "membership": "plus" } },
          { "id": "b-basket-100", "type": "bonus", "points": 50, "when": { "basketTotalAtLeast": 10000 } },
          { "id": "b-basket-250", "type": "bonus", "points": 200, "when": { "basketTotalAtLeast": 25000 } },
          { "id": "b-first-purchase", "type": "bonus", "points": 500, "when": { "firstPurchase": true } },
          { "id": "b-third-this-month", "type": "bonus", "points": 100, "when": { "nthPurchase": { "n": 3, "period": "month" } } },
          { "id": "b-fifth-this-week", "type": "bonus", "points": 80, "when": { "nthPurchase": { "n": 5, "period": "week" } } },
          { "id": "b-tenth-this-year", "type": "bonus", "points": 250, "when": { "nthPurchase": { "n": 10, "period": "year" } } },
          { "id": "b-weekend", "type": "bonus", "points": 30, "when": { "daysOfWeek": ["saturday", "sunday"] } },
          { "id": "b-happy-hour", "type": "bonus", "points": 25, "when": { "timeOfDay": { "from": "17:00", "to": "19:00" } } },
          { "id": "b-weekend-lunch", "type": "bonus", "points": 20, "when": { "all": [
              { "timeOfDay": { "from": "12:00", "to": "15:00" } },
              { "daysOfWeek": ["saturday", "sunday"] },
              { "channels": ["store"] } ] } },
          { "id": "b-night-owl", "type": "bonus", "points": 40, "when": { "timeOfDay": { "from": "22:00", "to": "06:00" } } },
          { "id": "b-big-weekday", "type": "bonus", "points": 75, "when": { "all": [
              { "basketTotalAtLeast": 10000 },
              { "not": { "daysOfWeek": ["saturday", "sunday"] } } ] } },
          { "id": "b-students-electronics", "type": "bonus", "points": 60, "when": { "all": [
              { "segments": ["students"] },
              { "basketContains": { "categories": ["electronics"] } } ] } },
          { "id": "b-premium", "type": "bonus", "points": 35, "when": { "any": [
              { "tiers": ["gold", "platinum"] },
              { "segments": ["vip"] } ] } },
          { "id": "b-in-person-regular", "type": "bonus", "points": 15, "when": { "all": [
              { "not": { "channels": ["mobile_app", "web"] } },
              { "lifetimeSpendAtLeast": 150000 } ] } },
          { "id": "b-new-member", "type": "bonus", "points": 100, "when": { "enrolledWithinDays": 30 } },
          { "id": "b-veteran", "type": "bonus", "points": 150, "when": { "all": [
              { "enrolledBefore": "2020-01-01" },
              { "any": [ { "segments": ["vip"] }, { "tiers": ["platinum"] } ] } ] } },
          { "id": "b-beauty-bundle", "type": "bonus", "points": 45, "when": { "all": [
              { "basketContains": { "brands": ["glow"] } },
              { "basketContains": { "categories": ["grocery"] } },
              { "not": { "tiers": ["member"] } } ] } }
        ]
        """,
        $$"""
        [
          { "id": "{{BlackFriday}}", "name": "Black Friday 2026",
            "window": { "start": "2026-11-27T00:00", "end": "2026-12-01T00:00" },
            "channels": ["store", "web"], "budget": 5000000, "perMemberCap": 2000,
            "rules": [
              { "id": "bf-electronics", "type": "multiplier", "factor": 2, "lines": { "categories": ["electronics"] } },
              { "id": "bf-toys", "type": "multiplier", "factor": 3, "lines": { "categories": ["toys"] } },
              { "id": "bf-basket", "type": "bonus", "points": 100, "when": { "basketTotalAtLeast": 12000 } },
              { "id": "bf-gold", "type": "bonus", "points": 200, "when": { "tiers": ["gold", "platinum"] } },
              { "id": "bf-early-bird", "type": "bonus", "points": 50, "when": { "timeOfDay": { "from": "06:00", "to": "09:00" } } },
              { "id": "bf-app", "type": "multiplier", "factor": 1.5, "when": { "channels": ["mobile_app"] } }
            ] },
          { "id": "{{WinterBeauty}}", "name": "Winter beauty",
            "window": { "start": "2026-11-01T00:00", "end": "2027-01-01T00:00" },
            "stores": ["paris-01", "lyon-02", "marseille-03"], "budget": 1000000, "perMemberCap": 500,
            "rules": [
              { "id": "wb-beauty", "type": "multiplier", "factor": 2, "lines": { "categories": ["beauty"] } },
              { "id": "wb-sku", "type": "multiplier", "factor": 3, "lines": { "skus": ["SKU-5006"] } },
              { "id": "wb-big-beauty", "type": "bonus", "points": 100, "when": { "all": [
                  { "basketContains": { "categories": ["beauty"] } },
                  { "basketTotalAtLeast": 30000 } ] } },
              { "id": "wb-newsletter", "type": "bonus", "points": 25, "when": { "all": [
                  { "segments": ["newsletter"] },
                  { "not": { "firstPurchase": true } } ] } },
              { "id": "wb-weekday", "type": "multiplier", "factor": 1.5, "lines": { "categories": ["beauty"] },
                "when": { "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday"] } }
            ] },
          { "id": "{{AppWeekend}}", "name": "App weekend",
            "window": { "start": "2026-11-01T00:00", "end": "2026-12-01T00:00" },
            "channels": ["mobile_app", "web"], "segments": ["app-users"], "budget": 200000, "perMemberCap": 300,
            "rules": [
              { "id": "aw-all", "type": "multiplier", "factor": 2 },
              { "id": "aw-bonus", "type": "bonus", "points": 50 },
              { "id": "aw-second-this-week", "type": "bonus", "points": 40, "when": { "nthPurchase": { "n": 2, "period": "week" } } },
              { "id": "aw-beverages", "type": "multiplier", "factor": 1.5, "lines": { "categories": ["beverages"] } }
            ] }
        ]
        """);

    /// <summary>Five program rules, three of which fire, and no campaign.</summary>
    public static string FiveRules() => Document(
        """
        [
          { "id": "m-grocery", "type": "multiplier", "factor": 2, "lines": { "categories": ["grocery"] } },
          { "id": "m-store-flagship", "type": "multiplier", "factor": 1.5, "when": { "stores": ["paris-01", "lyon-02"] } },
          { "id": "b-basket-100", "type": "bonus", "points": 50, "when": { "basketTotalAtLeast": 10000 } },
          { "id": "b-happy-hour", "type": "bonus", "points": 25, "when": { "timeOfDay": { "from": "17:00", "to": "19:00" } } },
          { "id": "b-first-purchase", "type": "bonus", "points": 500, "when": { "firstPurchase": true } }
        ]
        """,
        "[]");

    private static string Document(string rules, string campaigns) => $$"""
        {
          "id": "benchmark", "version": "2026.11.1", "currency": "EUR", "currencyExponent": 2,
          "timeZone": "Europe/Paris",
          "earn": { "points": 1, "perMinor": 100, "rounding": "floor" },
          "exclusions": { "categories": ["tobacco", "gift-cards"], "skus": ["SKU-DEPOSIT"], "labels": { "promo": ["STAFF"] } },
          "caps": { "perTransaction": 5000, "perMemberPerDay": 3000 },
          "tiers": [
            { "id": "member", "name": "Member", "threshold": 0 },
            { "id": "silver", "name": "Silver", "threshold": 50000, "multiplier": 1.25 },
            { "id": "gold", "name": "Gold", "threshold": 200000, "multiplier": 1.5 },
            { "id": "platinum", "name": "Platinum", "threshold": 500000, "multiplier": 2 }
          ],
          "memberships": [
            { "id": "plus", "name": "Plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.1 }
          ],
          "objectives": [
            { "id": "annual-growth", "name": "Annual growth", "steps": [
              { "percent": 25, "points": 200 },
              { "percent": 50, "points": 500 },
              { "percent": 100, "points": 1500 }
            ] }
          ],
          "referral": { "referrerPoints": 500, "refereePoints": 250, "minimumSpend": 2000 },
          "rules": {{rules}},
          "campaigns": {{campaigns}}
        }
        """;
}
