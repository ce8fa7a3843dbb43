using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Benchmarks;

/// <summary>The member, basket and campaign budgets every benchmark scores (see <see cref="Programs"/>).</summary>
internal static class Purchase
{
    /// <summary>Saturday 2026-11-28 14:30 in Paris (UTC+1).</summary>
    public static readonly DateTimeOffset OccurredAt = new(2026, 11, 28, 14, 30, 0, TimeSpan.FromHours(1));

    private static readonly DateTime Local = OccurredAt.DateTime;

    public static Basket Basket()
    {
        // Two labels per line, as a till sending colour, season, origin or promotion codes would.
        BasketLine[] lines =
        [
            new("SKU-1001", "grocery", "acme", 3, 499, [new("origin", "fr"), new("promo", "SPRING24")]),
            new("SKU-2002", "beverages", "fizz", 6, 129, [new("season", "winter"), new("promo", "SPRING24")]),
            new("SKU-3003", "electronics", "volt", 1, 8999, [new("color", "black"), new("season", "winter")]),
            new("SKU-4004", "tobacco", "smokeco", 1, 1050, [new("origin", "es"), new("clearance", "yes")]),
            new("SKU-5005", "beauty", "glow", 2, 1599, [new("color", "red"), new("season", "winter")]),
        ];
        if (!Engine.Scoring.Basket.TryCreate(lines, Channel.Store, "paris-01", OccurredAt, out var basket, out var overflowing))
        {
            throw new InvalidOperationException($"Line {overflowing} overflows.");
        }

        return basket!;
    }

    /// <summary>
    /// A silver member with the plus membership and the counters a regular customer carries: points today (and a
    /// stale entry from yesterday), campaign points, purchases this week, month and year, year-to-date spend, and an
    /// objective step already reached.
    /// </summary>
    public static MemberState Member() => new()
    {
        Balance = 5_400,
        LifetimeSpendMinor = 120_000,
        Tier = "silver",
        Purchases = 41,
        EnrolledAt = new DateTimeOffset(2022, 3, 14, 10, 0, 0, TimeSpan.FromHours(1)),
        // A plain array, as the hot state parses it.
        Segments = new[] { "students", "newsletter" },
        Membership = "plus",
        MembershipExpiresAt = new DateTimeOffset(2027, 6, 30, 0, 0, 0, TimeSpan.FromHours(2)),
        ReferenceRevenueMinor = 1_200_000,
        Counters = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            [CounterKeys.DailyPoints(ProgramCalendar.PeriodKey(Local, PeriodUnit.Day))] = 120,
            [CounterKeys.DailyPoints(ProgramCalendar.PeriodKey(Local.AddDays(-1), PeriodUnit.Day))] = 80,
            [CounterKeys.CampaignPoints(Programs.BlackFriday)] = 300,
            [CounterKeys.CampaignPoints(Programs.WinterBeauty)] = 50,
            [CounterKeys.Purchases(PeriodUnit.Week, ProgramCalendar.PeriodKey(Local, PeriodUnit.Week))] = 1,
            [CounterKeys.Purchases(PeriodUnit.Month, ProgramCalendar.PeriodKey(Local, PeriodUnit.Month))] = 2,
            [CounterKeys.Purchases(PeriodUnit.Year, ProgramCalendar.PeriodKey(Local, PeriodUnit.Year))] = 40,
            [CounterKeys.YearSpend(Local.Year)] = 400_000,
            [CounterKeys.ObjectiveStep("annual-growth", Local.Year, 25)] = 1,
        },
    };

    /// <summary>What each campaign may still award in total, as the hot state reports it.</summary>
    public static IReadOnlyDictionary<string, long> BudgetLimits() => new Dictionary<string, long>(StringComparer.Ordinal)
    {
        [Programs.BlackFriday] = 4_000_000,
        [Programs.WinterBeauty] = 900_000,
        [Programs.AppWeekend] = 150_000,
    };
}
