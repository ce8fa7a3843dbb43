using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LoyaltyCore.Server.Programs;

/// <summary>
/// Keeps every server on the active version: publishes the program file when it changes, hears other servers'
/// publications over Redis pub/sub, and checks the database periodically in case a message was missed.
/// </summary>
internal sealed partial class ProgramWatcher(
    ProgramProvider provider,
    RedisConnection redis,
    IOptions<HotStateOptions> hotState,
    ILogger<ProgramWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FileSettleDelay = TimeSpan.FromMilliseconds(300);
    private readonly SemaphoreSlim _fileChanged = new(0);

    private RedisChannel Channel => RedisChannel.Literal(hotState.Value.KeyPrefix + ":programs");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var subscriber = redis.Multiplexer.GetSubscriber();
        provider.Published += version => subscriber.PublishAsync(Channel, version);
        // Once: the client keeps the subscription and makes it again on every reconnect, even when Redis is down now.
        // Meanwhile the database poll alone carries new versions here, and the server keeps serving.
        await TrySubscribeAsync(subscriber, stoppingToken);

        using var watcher = WatchFile();
        while (!stoppingToken.IsCancellationRequested)
        {
            if (await _fileChanged.WaitAsync(PollInterval, stoppingToken))
            {
                // Editors write in several steps: wait for the file to settle, then take every change at once.
                await Task.Delay(FileSettleDelay, stoppingToken);
                while (_fileChanged.CurrentCount > 0)
                {
                    await _fileChanged.WaitAsync(stoppingToken);
                }

                await PublishFileAsync(stoppingToken);
            }
            else
            {
                await RefreshAsync(stoppingToken);
            }
        }
    }

    private async Task TrySubscribeAsync(ISubscriber subscriber, CancellationToken stoppingToken)
    {
        try
        {
            await subscriber.SubscribeAsync(Channel, (_, _) => _ = RefreshAsync(stoppingToken));
        }
        catch (RedisException ex)
        {
            LogSubscribeFailed(logger, ex.Message);
        }
    }

    private FileSystemWatcher? WatchFile()
    {
        var path = provider.FilePath;
        var directory = Path.GetDirectoryName(path);
        if (directory is null || !Directory.Exists(directory))
        {
            return null;
        }

        var watcher = new FileSystemWatcher(directory, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
        };
        watcher.Changed += (_, _) => _fileChanged.Release();
        watcher.Created += (_, _) => _fileChanged.Release();
        watcher.Renamed += (_, _) => _fileChanged.Release();
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private async Task PublishFileAsync(CancellationToken cancellationToken)
    {
        try
        {
            var document = await File.ReadAllTextAsync(provider.FilePath, cancellationToken);
            var program = ProgramParser.Parse(document);
            if (program.Version != provider.Current.Version)
            {
                await provider.PublishAsync(document, cancellationToken);
            }
        }
        catch (ProgramValidationException ex)
        {
            LogInvalidFile(logger, provider.FilePath, string.Join("; ", ex.Errors));
        }
        catch (Exception ex) when (ex is IOException or ProgramVersionConflictException or System.Data.Common.DbException or RedisException)
        {
            LogFileFailed(logger, ex, provider.FilePath);
        }
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            await provider.RefreshAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or RedisException or ProgramValidationException)
        {
            LogRefreshFailed(logger, ex);
        }
    }

    public override void Dispose()
    {
        _fileChanged.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Program file {Path} is invalid and was not activated: {Errors}")]
    private static partial void LogInvalidFile(ILogger logger, string path, string errors);

    [LoggerMessage(Level = LogLevel.Error, Message = "Program file {Path} could not be published")]
    private static partial void LogFileFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot subscribe to program publications yet ({Reason}); subscribing again on reconnect, polling the ledger meanwhile")]
    private static partial void LogSubscribeFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check for a newly activated program version")]
    private static partial void LogRefreshFailed(ILogger logger, Exception exception);
}
