namespace LoyaltyCore.Engine.Scoring;

/// <summary>How a fractional number of points becomes a whole one. Points are never fractional.</summary>
public enum RoundingMode
{
    Floor,
    Ceiling,
    HalfUp,
    HalfEven,
}

public static class Rounding
{
    /// <summary>
    /// Divides exactly and rounds once. Int128 keeps amount x rate x multiplier products exact far beyond
    /// anything a basket can reach, so the only rounding is the one the program asked for.
    /// </summary>
    public static long Divide(Int128 numerator, Int128 denominator, RoundingMode mode)
    {
        if (denominator <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(denominator), "Denominator must be positive.");
        }

        var quotient = Int128.DivRem(numerator, denominator);
        var whole = quotient.Quotient;
        var remainder = quotient.Remainder;
        if (remainder != 0)
        {
            // DivRem truncates toward zero; every mode below is expressed from there.
            var negative = numerator < 0;
            var twiceRemainder = Int128.Abs(remainder) * 2;
            whole += mode switch
            {
                RoundingMode.Floor => negative ? -1 : 0,
                RoundingMode.Ceiling => negative ? 0 : 1,
                RoundingMode.HalfUp => twiceRemainder >= denominator ? (negative ? -1 : 1) : 0,
                RoundingMode.HalfEven => twiceRemainder > denominator || (twiceRemainder == denominator && !Int128.IsEvenInteger(whole))
                    ? (negative ? -1 : 1)
                    : 0,
                _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown rounding mode."),
            };
        }

        return checked((long)whole);
    }
}
