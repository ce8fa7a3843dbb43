using LoyaltyCore.Engine.Programs;

namespace LoyaltyCore.Server.Programs;

/// <summary>A program version activated at an instant.</summary>
internal readonly record struct ProgramActivation(DateTimeOffset ActivatedAt, LoyaltyProgram Program);

/// <summary>
/// The program versions in the order they were activated, each from its activation on: which version a purchase is
/// scored with, by the instant it happened. Immutable and swapped whole, so a reader sees one consistent history and
/// the active version together.
/// </summary>
internal sealed class ProgramTimeline
{
    // Start of each version, in UTC ticks, never decreasing; the last one is the active version's.
    private readonly long[] _starts;
    private readonly LoyaltyProgram[] _programs;
    private readonly long _currentStart;
    private readonly LoyaltyProgram _current;

    /// <param name="active">The active version as reported (its latest activation and document).</param>
    /// <param name="activations">In activation order, the last one of the active version.</param>
    /// <param name="fromLedger">Whether the activations are the ledger's (false: the program file, the ledger unreachable).</param>
    /// <param name="lastActivationId">The ledger's number of the last activation, when from the ledger.</param>
    public ProgramTimeline(ActiveProgram active, IReadOnlyList<ProgramActivation> activations, bool fromLedger, long lastActivationId = 0)
    {
        ArgumentNullException.ThrowIfNull(active);
        ArgumentNullException.ThrowIfNull(activations);
        if (activations.Count == 0 || !ReferenceEquals(activations[^1].Program, active.Program))
        {
            throw new ArgumentException("The last activation must be the active version's.", nameof(activations));
        }

        var starts = new List<long>(activations.Count);
        var programs = new List<LoyaltyProgram>(activations.Count);
        foreach (var (activatedAt, program) in activations)
        {
            // The ledger orders activations by their sequence, and that order decides the active version: a time
            // earlier than the one before (two publications racing, a database clock stepped back) starts with it.
            var start = starts.Count == 0 ? activatedAt.UtcTicks : Math.Max(activatedAt.UtcTicks, starts[^1]);
            if (programs.Count > 0 && ReferenceEquals(programs[^1], program))
            {
                // Activated again while already active: it stays active from its first activation.
                continue;
            }

            starts.Add(start);
            programs.Add(program);
        }

        _starts = [.. starts];
        _programs = [.. programs];
        _currentStart = _starts[^1];
        _current = active.Program;
        Active = active;
        FromLedger = fromLedger;
        LastActivationId = lastActivationId;
    }

    /// <summary>The version scoring now.</summary>
    public ActiveProgram Active { get; }

    public LoyaltyProgram Current => _current;

    /// <summary>Whether the activations came from the ledger; otherwise only the active version is known.</summary>
    public bool FromLedger { get; }

    /// <summary>The ledger's number of the last activation read; later activations have larger ones.</summary>
    public long LastActivationId { get; }

    /// <summary>When the active version started scoring (its first activation in a row).</summary>
    public DateTimeOffset CurrentSince => new(_currentStart, TimeSpan.Zero);

    /// <summary>The versions kept, oldest first.</summary>
    public IReadOnlyList<LoyaltyProgram> Programs => _programs;

    /// <summary>
    /// The version active at <paramref name="instant"/>: the last one activated at or before it; the active version
    /// for any instant from its activation on; the earliest version kept for an instant before every activation kept.
    /// </summary>
    public LoyaltyProgram At(DateTimeOffset instant)
    {
        var ticks = instant.UtcTicks;
        if (ticks >= _currentStart)
        {
            return _current;
        }

        // The last start at or before the instant, among the versions before the active one.
        var low = 0;
        var high = _starts.Length - 2;
        var found = 0;
        while (low <= high)
        {
            var middle = (low + high) >>> 1;
            if (_starts[middle] <= ticks)
            {
                found = middle;
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        return _programs[found];
    }
}
