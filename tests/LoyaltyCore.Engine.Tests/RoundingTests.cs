using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Tests;

public sealed class RoundingTests
{
    [Theory]
    [InlineData(10, 4, RoundingMode.Floor, 2)]
    [InlineData(10, 4, RoundingMode.Ceiling, 3)]
    [InlineData(10, 4, RoundingMode.HalfUp, 3)]
    [InlineData(10, 4, RoundingMode.HalfEven, 2)]
    [InlineData(14, 4, RoundingMode.HalfEven, 4)]
    [InlineData(11, 4, RoundingMode.HalfUp, 3)]
    [InlineData(9, 4, RoundingMode.HalfUp, 2)]
    [InlineData(12, 4, RoundingMode.Floor, 3)]
    [InlineData(12, 4, RoundingMode.Ceiling, 3)]
    [InlineData(0, 7, RoundingMode.Ceiling, 0)]
    [InlineData(-10, 4, RoundingMode.Floor, -3)]
    [InlineData(-10, 4, RoundingMode.Ceiling, -2)]
    [InlineData(-10, 4, RoundingMode.HalfUp, -3)]
    [InlineData(-10, 4, RoundingMode.HalfEven, -2)]
    // Half-even away from ties behaves as half-up: nearest whole.
    [InlineData(11, 4, RoundingMode.HalfEven, 3)]
    [InlineData(9, 4, RoundingMode.HalfEven, 2)]
    [InlineData(15, 4, RoundingMode.HalfEven, 4)]
    [InlineData(-11, 4, RoundingMode.HalfEven, -3)]
    [InlineData(-9, 4, RoundingMode.HalfEven, -2)]
    // Negative ties go to the even neighbour, on either side.
    [InlineData(-14, 4, RoundingMode.HalfEven, -4)]
    [InlineData(-6, 4, RoundingMode.HalfEven, -2)]
    [InlineData(-2, 4, RoundingMode.HalfEven, 0)]
    [InlineData(-9, 4, RoundingMode.HalfUp, -2)]
    [InlineData(-9, 4, RoundingMode.Floor, -3)]
    [InlineData(9, 4, RoundingMode.Ceiling, 3)]
    [InlineData(-9, 4, RoundingMode.Ceiling, -2)]
    public void Divide_rounds_once_as_asked(long numerator, long denominator, RoundingMode mode, long expected) =>
        Assert.Equal(expected, Rounding.Divide(numerator, denominator, mode));

    [Fact]
    public void Divide_is_exact_beyond_the_int64_range_of_intermediate_products()
    {
        Int128 numerator = (Int128)long.MaxValue * 1_000;
        Assert.Equal(long.MaxValue, Rounding.Divide(numerator, 1_000, RoundingMode.Floor));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4)]
    public void Divide_refuses_a_denominator_that_is_not_positive(long denominator) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Rounding.Divide(10, denominator, RoundingMode.HalfUp));

    [Fact]
    public void Divide_refuses_a_result_that_does_not_fit_int64() =>
        Assert.Throws<OverflowException>(() => Rounding.Divide((Int128)long.MaxValue * 2, 1, RoundingMode.Floor));
}
