using System.Collections.Frozen;

namespace LoyaltyCore.Engine.Scoring;

/// <summary>
/// Label keys, each with the values it accepts (<see cref="AnyValue"/> accepts a line that carries the key at all).
/// A line has few labels and a selector names few keys, so matching scans both rather than hashing per line.
/// </summary>
public sealed class LabelSelector
{
    /// <summary>The value that accepts any value of its key.</summary>
    public const string AnyValue = "*";

    private readonly string[] _keys;
    private readonly FrozenSet<string>?[] _values;

    /// <param name="wanted">Each key with its accepted values; a list holding <see cref="AnyValue"/> accepts any value.</param>
    public LabelSelector(IReadOnlyDictionary<string, IReadOnlySet<string>> wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        _keys = [.. wanted.Keys];
        _values = [.. _keys.Select(k => wanted[k].Contains(AnyValue) ? null : wanted[k].ToFrozenSet(StringComparer.Ordinal))];
    }

    /// <summary>Every key of the selector is on the line with an accepted value.</summary>
    public bool MatchesAll(in BasketLine line)
    {
        for (var i = 0; i < _keys.Length; i++)
        {
            if (!Accepts(i, line))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>At least one key of the selector is on the line with an accepted value.</summary>
    public bool MatchesAny(in BasketLine line)
    {
        if (line.Labels is not { Count: > 0 })
        {
            return false;
        }

        for (var i = 0; i < _keys.Length; i++)
        {
            if (Accepts(i, line))
            {
                return true;
            }
        }

        return false;
    }

    private bool Accepts(int key, in BasketLine line) =>
        line.Label(_keys[key]) is { } value && (_values[key] is not { } accepted || accepted.Contains(value));
}
