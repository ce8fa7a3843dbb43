using LoyaltyCore.Engine.Points;
using static LoyaltyCore.Engine.Tests.ProgramBuilder;

namespace LoyaltyCore.Engine.Tests.Points;

public sealed class ExpiryPolicyTests
{
    [Theory]
    [InlineData(2026, 3, 15, 12, 20270315)]
    [InlineData(2026, 1, 31, 1, 20260228)] // no 31 February: the month's last day
    [InlineData(2024, 2, 29, 12, 20250228)]
    [InlineData(2026, 12, 31, 24, 20281231)]
    public void Months_count_from_the_day_earned(int year, int month, int day, int months, int expected)
    {
        Assert.Equal(expected, ExpiryPolicy.AfterMonths(months, extendOnActivity: false).ExpiresOn(new DateOnly(year, month, day)));
    }

    [Theory]
    [InlineData(ExpiryPeriod.Quarter, 1, 2026, 2, 10, 20260701)] // earned in Q1: gone at the end of Q2
    [InlineData(ExpiryPeriod.Quarter, 1, 2026, 3, 31, 20260701)]
    [InlineData(ExpiryPeriod.Quarter, 1, 2026, 4, 1, 20261001)]
    [InlineData(ExpiryPeriod.Quarter, 0, 2026, 12, 5, 20270101)]
    [InlineData(ExpiryPeriod.Year, 1, 2026, 6, 1, 20280101)] // earned in 2026: gone at the end of 2027
    [InlineData(ExpiryPeriod.Year, 0, 2026, 1, 1, 20270101)]
    [InlineData(ExpiryPeriod.Month, 2, 2026, 11, 30, 20270201)]
    public void End_of_period_counts_whole_periods_after_the_one_earned_in(ExpiryPeriod period, int after, int year, int month, int day, int expected)
    {
        Assert.Equal(expected, ExpiryPolicy.EndOfPeriod(period, after, extendOnActivity: false).ExpiresOn(new DateOnly(year, month, day)));
    }

    [Fact]
    public void Points_never_expire_without_a_policy()
    {
        Assert.False(ExpiryPolicy.Never.Expires);
        Assert.Equal(0, ExpiryPolicy.Never.ExpiresOn(new DateOnly(2026, 1, 1)));
        Assert.True(ExpiryPolicy.AfterMonths(1, false).Expires);
        Assert.True(ExpiryPolicy.EndOfPeriod(ExpiryPeriod.Month, 0, false).Expires);
    }

    [Fact]
    public void The_lot_key_names_the_day_the_expiry_and_whether_activity_extends_it()
    {
        var extending = ExpiryPolicy.AfterMonths(12, extendOnActivity: true);
        var day = new DateOnly(2026, 6, 15);

        Assert.Equal("k.le:20260615:20270615", extending.LotKey(day, extending.ExpiresOn(day)));
        Assert.Equal("k.le:20260616:20270616", extending.LotKey(day.AddDays(1), extending.ExpiresOn(day.AddDays(1))));
        Assert.Equal("k.lt:20260615:20270615", ExpiryPolicy.AfterMonths(12, false).LotKey(day, 20270615));
        // Points that never expire are never extended.
        Assert.Equal("k.lt:20260615:0", ExpiryPolicy.Never.LotKey(day, 0));
    }

    [Fact]
    public void Day_keys_round_trip()
    {
        Assert.Equal(20260228, ExpiryPolicy.DayKey(new DateOnly(2026, 2, 28)));
        Assert.Equal(new DateOnly(2026, 2, 28), ExpiryPolicy.Day(20260228));
    }

    [Fact]
    public void The_program_reads_each_form_of_expiry()
    {
        var months = Program(""" "expiry": { "months": 24, "extendOnActivity": true } """).Expiry;
        Assert.Equal(24, months.Months);
        Assert.True(months.ExtendOnActivity);

        var quarter = Program(""" "expiry": { "endOf": "quarter", "periodsAfter": 1 } """).Expiry;
        Assert.Equal(ExpiryPeriod.Quarter, quarter.Period);
        Assert.Equal(1, quarter.PeriodsAfter);
        Assert.False(quarter.ExtendOnActivity);

        Assert.Equal(0, Program(""" "expiry": { "endOf": "year" } """).Expiry.PeriodsAfter);
        Assert.Same(ExpiryPolicy.Never, Program().Expiry);
    }

    [Theory]
    [InlineData("""{ "months": 12, "endOf": "year" }""", "expiry: either months or endOf, not both")]
    [InlineData("""{ }""", "expiry: months or endOf is required")]
    [InlineData("""{ "months": 0 }""", "expiry.months: a whole number from 1 to 1200")]
    [InlineData("""{ "endOf": "week" }""", "expiry.endOf: one of month, quarter, year")]
    [InlineData("""{ "endOf": "year", "periodsAfter": -1 }""", "expiry.periodsAfter: a whole number from 0 to 100")]
    [InlineData("""{ "months": 6, "periodsAfter": 1 }""", "expiry.periodsAfter: only with endOf")]
    [InlineData("""{ "months": 6, "extendOnActivity": "yes" }""", "expiry.extendOnActivity: true or false")]
    [InlineData("""{ "months": 6, "grace": 3 }""", "expiry.grace: unknown field")]
    public void A_bad_expiry_is_reported_with_its_path(string expiry, string error)
    {
        Assert.Contains(error, Errors(Json($""" "expiry": {expiry} """)));
    }
}
