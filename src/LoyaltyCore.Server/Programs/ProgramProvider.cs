using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Programs;

/// <summary>
/// Holds the active program. A request reads <see cref="Current"/> once and uses that instance throughout, so a
/// new version activated meanwhile never mixes into it.
/// </summary>
internal sealed partial class ProgramProvider(IOptions<ProgramOptions> options, IHostEnvironment environment, LoyaltyMetrics metrics, ILogger<ProgramProvider> logger)
{
    private LoyaltyProgram? _current;

    public LoyaltyProgram Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("No program is active yet.");

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var path = Path.IsPathRooted(options.Value.Path)
            ? options.Value.Path
            : Path.Combine(environment.ContentRootPath, options.Value.Path);
        if (!File.Exists(path))
        {
            path = Path.Combine(AppContext.BaseDirectory, options.Value.Path);
        }

        var program = ProgramCompiler.FromJson(await File.ReadAllTextAsync(path, cancellationToken));
        Activate(program);
        LogActivated(logger, program.Id, program.Version, path);
    }

    public void Activate(LoyaltyProgram program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var previous = Interlocked.Exchange(ref _current, program);
        if (previous is not null)
        {
            metrics.ProgramInfo.WithLabels(previous.Id, previous.Version).Set(0);
        }

        metrics.ProgramInfo.WithLabels(program.Id, program.Version).Set(1);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Program {ProgramId} version {Version} active (from {Path})")]
    private static partial void LogActivated(ILogger logger, string programId, string version, string path);
}
