using LoyaltyCore.Engine.Kpis;

namespace LoyaltyCore.Engine.Tests.Kpis;

public sealed class KpiMathTests
{
    [Theory]
    [InlineData(5, 2, 3)]
    [InlineData(-5, 2, -3)]
    [InlineData(7, 2, 4)]
    [InlineData(4, 3, 1)]
    [InlineData(5, 3, 2)]
    [InlineData(-4, 3, -1)]
    [InlineData(-5, 3, -2)]
    [InlineData(5, -2, -3)]
    [InlineData(0, 7, 0)]
    [InlineData(6, 3, 2)]
    public void Division_rounds_half_away_from_zero(long numerator, long denominator, long expected) =>
        Assert.Equal(expected, KpiMath.DivideRounded(numerator, denominator));

    [Fact]
    public void Division_by_zero_is_refused() =>
        Assert.Throws<DivideByZeroException>(() => KpiMath.DivideRounded(1, 0));

    [Theory]
    [InlineData(585, 5, 3)] // 2.925
    [InlineData(100, 5, 1)] // 0.5
    [InlineData(99, 5, 0)] // 0.495
    [InlineData(-585, 5, -3)]
    [InlineData(1_000, 0, 0)]
    public void Points_cost_is_the_price_per_thousand_rounded(long points, long perThousand, long expected) =>
        Assert.Equal(expected, KpiMath.PointsCostMinor(points, perThousand));

    [Fact]
    public void Points_cost_does_not_overflow_for_huge_liabilities() =>
        Assert.Equal(9_000_000_000_000_000, KpiMath.PointsCostMinor(9_000_000_000_000_000, 1_000));

    [Theory]
    [InlineData(36_500, 7, 8_400)]
    [InlineData(36_500, 365, 438_000)]
    [InlineData(1_000, 1, 33)] // 32.88
    [InlineData(0, 30, 0)]
    public void Running_cost_is_a_twelfth_of_a_365_day_year_per_month(long perMonth, int days, long expected) =>
        Assert.Equal(expected, KpiMath.RunningCostMinor(perMonth, days));

    [Fact]
    public void A_year_of_running_cost_is_twelve_months() =>
        Assert.Equal(12 * 123_457, KpiMath.RunningCostMinor(123_457, 365));

    [Theory]
    [InlineData(10, 4, 2.5)]
    [InlineData(3, 0, 0)]
    [InlineData(0, 5, 0)]
    public void Ratio_is_zero_over_nothing(long numerator, long denominator, double expected) =>
        Assert.Equal(expected, KpiMath.Ratio(numerator, denominator));

    [Theory]
    [InlineData(10, 4, 3)] // 2.5
    [InlineData(9, 4, 2)] // 2.25
    [InlineData(9, 0, 0)]
    public void Per_member_amounts_round_half_away_from_zero(long amount, long count, long expected) =>
        Assert.Equal(expected, KpiMath.PerMinor(amount, count));

    [Theory]
    [InlineData(150, 2, 1.5)]
    [InlineData(-150, 2, -1.5)]
    [InlineData(150, 0, 150)]
    [InlineData(1234, 3, 1.234)]
    public void Major_units_move_the_decimal_point(long minor, int exponent, double expected) =>
        Assert.Equal(expected, KpiMath.Major(minor, exponent), 12);

    [Theory]
    [InlineData(150, 2, "1.50")]
    [InlineData(-150, 2, "-1.50")]
    [InlineData(5, 2, "0.05")]
    [InlineData(-5, 2, "-0.05")]
    [InlineData(42, 0, "42")]
    [InlineData(1234, 3, "1.234")]
    [InlineData(long.MinValue, 2, "-92233720368547758.08")]
    public void Amounts_are_written_in_major_units(long minor, int exponent, string expected) =>
        Assert.Equal(expected, KpiMath.FormatMajor(minor, exponent));

    [Theory]
    [InlineData(110, 100, 0.1)]
    [InlineData(90, 100, -0.1)]
    [InlineData(100, 100, 0)]
    public void Change_is_relative_to_the_earlier_value(long current, long previous, double expected) =>
        Assert.Equal(expected, KpiMath.Change(current, previous)!.Value, 12);

    [Fact]
    public void Change_from_nothing_has_no_value() => Assert.Null(KpiMath.Change(5, 0));
}
