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
/// Holds the active program and publishes new versions. Publishing validates, stores the version in the ledger
/// database and activates it there (so every server picks it up), then swaps it in here in one reference write: a
/// request reads <see cref="Current"/> once and uses that instance throughout, so it never sees a mix of versions.
/// </summary>
internal sealed partial class ProgramProvider(
    LedgerStore ledger,
    CampaignBudgets budgets,
    IOptions<ProgramOptions> options,
    IHostEnvironment environment,
    LoyaltyMetrics metrics,
    TimeProvider time,
    ILogger<ProgramProvider> logger)
{
    private ActiveProgram? _active;

    public LoyaltyProgram Current => Active.Program;

    public ActiveProgram Active => Volatile.Read(ref _active) ?? throw new InvalidOperationException("No program is active yet.");

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
            Activate(fromFile, document);
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
        var active = Activate(program, document);
        LogPublished(logger, program.Id, program.Version);
        if (Published is { } published)
        {
            await published(program.Version);
        }

        return (active, created);
    }

    /// <summary>Activates the version the database says is active, if it is not the one in use.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (await ledger.ActiveProgramAsync(cancellationToken) is not { } stored)
        {
            return;
        }

        if (Volatile.Read(ref _active) is { } current && current.Program.Version == stored.Version)
        {
            return;
        }

        var program = ProgramParser.Parse(stored.Document, stored: true);
        await budgets.InitializeAsync(program, cancellationToken);
        Activate(program, stored.Document, DateTimeOffset.FromUnixTimeMilliseconds(stored.ActivatedAtMs));
        LogActivated(logger, program.Id, program.Version);
    }

    private ActiveProgram Activate(LoyaltyProgram program, string document, DateTimeOffset? activatedAt = null)
    {
        var active = new ActiveProgram(program, document, activatedAt ?? time.GetUtcNow());
        var previous = Interlocked.Exchange(ref _active, active);
        if (previous is not null)
        {
            metrics.ProgramInfo.WithLabels(previous.Program.Id, previous.Program.Version).Set(0);
        }

        metrics.ProgramInfo.WithLabels(program.Id, program.Version).Set(1);
        return active;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Program {ProgramId} version {Version} published and active")]
    private static partial void LogPublished(ILogger logger, string programId, string version);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Program file {Path} reuses published version {Version} with other content: the published document stays active; give the file a new version")]
    private static partial void LogFileVersionReused(ILogger logger, string path, string version);

    [LoggerMessage(Level = LogLevel.Error, Message = "The ledger is unavailable at start; serving the program file {Path} until it is back")]
    private static partial void LogStartedFromFile(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Program {ProgramId} version {Version} active")]
    private static partial void LogActivated(ILogger logger, string programId, string version);
}
