using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Transactions;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Programs;

/// <summary>A program version as activated: the compiled program and the document it came from.</summary>
internal sealed record ActiveProgram(LoyaltyProgram Program, string Document, DateTimeOffset ActivatedAt);

/// <summary>The program version was already published with a different document.</summary>
internal sealed class ProgramVersionConflictException(string version)
    : Exception($"Version '{version}' was already published with a different document; publish it under a new version.");

/// <summary>
/// Holds the active program, the versions before it that purchases dated back may still need, and publishes new
/// versions. Publishing validates, stores the version in the ledger database and activates it there (so every server
/// picks it up), then swaps it in here in one reference write: a request reads the program once and uses that
/// instance throughout, so it never sees a mix of versions.
/// </summary>
/// <remarks>
/// A purchase is scored by the version that was active when it happened (<see cref="ProgramAt"/>): the ledger keeps
/// every activation, and each load keeps the ones of the last <see cref="ScoringOptions.MaxBackdate"/> (the oldest
/// purchase accepted) plus the one active when that window starts, each version compiled once.
/// </remarks>
internal sealed partial class ProgramProvider(
    LedgerStore ledger,
    CampaignBudgets budgets,
    IOptions<ProgramOptions> options,
    IOptions<ScoringOptions> scoring,
    IHostEnvironment environment,
    LoyaltyMetrics metrics,
    TimeProvider time,
    ILogger<ProgramProvider> logger)
{
    private ProgramTimeline? _timeline;

    public LoyaltyProgram Current => Timeline.Current;

    public ActiveProgram Active => Timeline.Active;

    /// <summary>The active version and the ones before it, as last loaded.</summary>
    public ProgramTimeline Timeline => Volatile.Read(ref _timeline) ?? throw new InvalidOperationException("No program is active yet.");

    /// <summary>Raised after a new version is published here, so other servers can be told.</summary>
    public event Func<string, Task>? Published;

    public string FilePath
    {
        get
        {
            var path = options.Value.Path;
            if (Path.IsPathRooted(path))
            {
                return path;
            }

            var fromContentRoot = Path.Combine(environment.ContentRootPath, path);
            return File.Exists(fromContentRoot) ? fromContentRoot : Path.Combine(AppContext.BaseDirectory, path);
        }
    }

    /// <summary>
    /// The version that was active at <paramref name="occurredAt"/>: the active one from its activation on (read
    /// without a lock or an allocation), an earlier one kept for an earlier instant, the earliest kept before them
    /// all. Only the active one is known while the ledger could not be read.
    /// </summary>
    public LoyaltyProgram ProgramAt(DateTimeOffset occurredAt) => Timeline.At(occurredAt);

    /// <summary>
    /// At start: the program file is published if its version is new (edits made while the server was down count),
    /// otherwise the version last activated in the database is used.
    /// </summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var document = await File.ReadAllTextAsync(FilePath, cancellationToken);
        // Read as stored: a file whose version is new is published below, which applies every check.
        var fromFile = ProgramParser.Parse(document, stored: true);
        try
        {
            var stored = await ledger.ProgramAsync(fromFile.Version, cancellationToken);
            if (stored is null)
            {
                await PublishAsync(document, cancellationToken);
                return;
            }

            if (stored.Document != document)
            {
                LogFileVersionReused(logger, FilePath, fromFile.Version);
            }

            await RefreshAsync(cancellationToken);
        }
        catch (System.Data.Common.DbException ex)
        {
            // Serve with the file's program rather than not at all; the watcher moves to the published one later.
            // Budgeted campaigns award nothing until their budgets can be set up from the ledger.
            LogStartedFromFile(logger, ex, FilePath);
            var active = new ActiveProgram(fromFile, document, time.GetUtcNow());
            Swap(new ProgramTimeline(active, [new(active.ActivatedAt, fromFile)], fromLedger: false));
        }
    }

    /// <summary>Validates, stores and activates a program document.</summary>
    /// <returns>The activated program and whether its version was new.</returns>
    /// <exception cref="ProgramValidationException">The document is invalid; nothing was stored or activated.</exception>
    public async Task<(ActiveProgram Program, bool Created)> PublishAsync(string document, CancellationToken cancellationToken)
    {
        var program = ProgramParser.Parse(document);
        if (await ledger.ProgramAsync(program.Version, cancellationToken) is { } existing && existing.Document != document)
        {
            throw new ProgramVersionConflictException(program.Version);
        }

        // Budgets first: no purchase may run under the new version before its campaigns can draw.
        await budgets.InitializeAsync(program, cancellationToken);
        var created = await ledger.PublishProgramAsync(program.Id, program.Version, document, cancellationToken);
        ProgramTimeline timeline;
        try
        {
            // With the activation just made, at the ledger's time like every other server will see it.
            timeline = await LoadTimelineAsync(program, cancellationToken);
        }
        catch (System.Data.Common.DbException ex)
        {
            // The version is active in the ledger: serve it now, and let the next refresh load the versions before it.
            LogTimelineUnavailable(logger, ex);
            var now = new ActiveProgram(program, document, time.GetUtcNow());
            timeline = Swap(new ProgramTimeline(now, [new(now.ActivatedAt, program)], fromLedger: false));
        }

        LogPublished(logger, program.Id, program.Version);
        if (Published is { } published)
        {
            await published(program.Version);
        }

        // Another server's publication may have followed this one in the ledger; the answer is about this one.
        var active = timeline.Current == program ? timeline.Active : new ActiveProgram(program, document, time.GetUtcNow());
        return (active, created);
    }

    /// <summary>
    /// Loads the activations again when the ledger's latest is not the one in use (or the versions before it were
    /// never read from the ledger), and activates the version the database says is active.
    /// </summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (await ledger.ActiveProgramAsync(cancellationToken) is not { } stored)
        {
            return;
        }

        if (Volatile.Read(ref _timeline) is { FromLedger: true } current && current.Active.Program.Version == stored.Version
            && current.Active.ActivatedAt.ToUnixTimeMilliseconds() == stored.ActivatedAtMs)
        {
            return;
        }

        await LoadTimelineAsync(published: null, cancellationToken);
    }

    /// <summary>
    /// Reads the activations from the ledger, compiles the versions not compiled yet, sets up the budgets of an active
    /// version whose budgets were not (a newly published one already has them), and swaps the timeline in.
    /// </summary>
    /// <param name="published">A version this server just published, compiled already and its budgets set up.</param>
    private async Task<ProgramTimeline> LoadTimelineAsync(LoyaltyProgram? published, CancellationToken cancellationToken)
    {
        var previous = Volatile.Read(ref _timeline);
        // The oldest purchase accepted; the version active then is the first one kept.
        var sinceMs = time.GetUtcNow().ToUnixTimeMilliseconds() - (long)scoring.Value.MaxBackdate.TotalMilliseconds;
        var rows = await ledger.ProgramActivationsAsync(sinceMs, cancellationToken);
        if (rows.Count == 0)
        {
            throw new InvalidOperationException("The ledger has no program activation.");
        }

        // A version is published once with one document, so its compiled program is reused. Not one compiled from the
        // program file while the ledger was unreachable: the ledger may hold another document under that version.
        var compiled = new Dictionary<string, LoyaltyProgram>(StringComparer.Ordinal);
        if (previous is { FromLedger: true })
        {
            foreach (var program in previous.Programs)
            {
                compiled[program.Version] = program;
            }
        }

        if (published is not null)
        {
            compiled[published.Version] = published;
        }

        var activations = new List<ProgramActivation>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (!compiled.TryGetValue(row.Version, out var program))
            {
                try
                {
                    program = ProgramParser.Parse(row.Document, stored: true);
                }
                catch (ProgramValidationException ex) when (i < rows.Count - 1)
                {
                    // Stored versions load with the meaning they were published with, so this is not expected; the
                    // version before it then covers its time rather than blocking the active one.
                    LogEarlierVersionInvalid(logger, row.Version, string.Join("; ", ex.Errors));
                    continue;
                }

                compiled[row.Version] = program;
            }

            activations.Add(new ProgramActivation(DateTimeOffset.FromUnixTimeMilliseconds(row.ActivatedAtMs), program));
        }

        var latest = rows[^1];
        var current = activations[^1].Program;
        var budgetsReady = (previous is { FromLedger: true } && previous.Current == current) || published == current;
        if (!budgetsReady)
        {
            // Budgets first, as for a publication; only for the active version: an earlier one never resizes them.
            await budgets.InitializeAsync(current, cancellationToken);
        }

        var loaded = new ProgramTimeline(
            new ActiveProgram(current, latest.Document, DateTimeOffset.FromUnixTimeMilliseconds(latest.ActivatedAtMs)), activations, fromLedger: true, latest.Id);
        var timeline = Swap(loaded);
        if (timeline == loaded)
        {
            if (previous?.Current.Version != current.Version)
            {
                LogActivated(logger, current.Id, current.Version);
            }

            LogTimelineLoaded(logger, timeline.Programs.Count, current.Version);
        }

        return timeline;
    }

    /// <returns>The timeline in use: <paramref name="timeline"/>, unless one read later from the ledger is in use already.</returns>
    private ProgramTimeline Swap(ProgramTimeline timeline)
    {
        var previous = Volatile.Read(ref _timeline);
        while (true)
        {
            // Loads can overlap (a publication, the poll, a pub/sub message): one that read the ledger before another
            // and finishes after it must not bring back the version the other one replaced.
            if (previous is { FromLedger: true } && timeline.FromLedger && previous.LastActivationId > timeline.LastActivationId)
            {
                return previous;
            }

            var seen = Interlocked.CompareExchange(ref _timeline, timeline, previous);
            if (seen == previous)
            {
                break;
            }

            previous = seen;
        }

        if (previous is not null && previous.Current.Version != timeline.Current.Version)
        {
            // An info series says what is, so a retired version's goes (a 0 would be summed and joined on as if live).
            metrics.ProgramInfo.RemoveLabelled(previous.Current.Id, previous.Current.Version);
            metrics.RetireSeriesNotIn(timeline.Current);
        }

        metrics.ProgramInfo.WithLabels(timeline.Current.Id, timeline.Current.Version).Set(1);
        return timeline;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Program {ProgramId} version {Version} published and active")]
    private static partial void LogPublished(ILogger logger, string programId, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Program file {Path} reuses published version {Version} with other content: the published document stays active; give the file a new version")]
    private static partial void LogFileVersionReused(ILogger logger, string path, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "The ledger is unavailable at start; serving the program file {Path} until it is back")]
    private static partial void LogStartedFromFile(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Program {ProgramId} version {Version} active")]
    private static partial void LogActivated(ILogger logger, string programId, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The program activations could not be read after publishing; purchases dated back are scored by the published version until the next refresh")]
    private static partial void LogTimelineUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Program version {Version}, active earlier, no longer compiles and is skipped for purchases dated back: {Errors}")]
    private static partial void LogEarlierVersionInvalid(ILogger logger, string version, string errors);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Program activations loaded: {Count} versions kept for purchases dated back, {Version} active")]
    private static partial void LogTimelineLoaded(ILogger logger, int count, string version);
}
