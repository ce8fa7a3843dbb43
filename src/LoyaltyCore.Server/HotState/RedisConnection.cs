using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>The process's one shared multiplexer (and the embedded server behind it when none is configured).</summary>
internal sealed class RedisConnection(IOptions<HotStateOptions> options) : IAsyncDisposable
{
    private EmbeddedRedisServer? _embedded;
    private ConnectionMultiplexer? _multiplexer;

    public bool IsEmbedded => _embedded is not null;

    public IConnectionMultiplexer Multiplexer => _multiplexer ?? throw new InvalidOperationException("Redis is not connected yet.");

    public IDatabase Database => Multiplexer.GetDatabase();

    /// <summary>
    /// Whether one script may only touch keys of one hash slot (Redis Cluster). Assumed until a connected server has
    /// said what it is (Redis may be down at start): a batch split by slot is correct everywhere, only smaller.
    /// </summary>
    public bool SlotsBoundScripts
    {
        get
        {
            if (_slotsBoundScripts is { } known)
            {
                return known;
            }

            var connected = Multiplexer.GetServers().Where(server => server.IsConnected).ToList();
            if (connected.Count == 0)
            {
                return true;
            }

            var bound = !connected.Any(server => server.ServerType == ServerType.Standalone);
            _slotsBoundScripts = bound;
            return bound;
        }
    }

    private bool? _slotsBoundScripts;

    public async Task ConnectAsync()
    {
        if (_multiplexer is not null)
        {
            return;
        }

        var configuration = options.Value.Redis;
        if (string.IsNullOrWhiteSpace(configuration))
        {
            _embedded = new EmbeddedRedisServer();
            configuration = _embedded.ConnectionString;
        }

        var redisOptions = ConfigurationOptions.Parse(configuration);
        // Keep retrying in the background after a Redis restart instead of failing every later call.
        redisOptions.AbortOnConnectFail = false;
        // While no connection is up, commands fail at once (the call gets UNAVAILABLE) instead of queueing until the
        // client's deadline; they go through again as soon as the multiplexer has reconnected by itself.
        redisOptions.BacklogPolicy = BacklogPolicy.FailFast;
        _multiplexer = await ConnectionMultiplexer.ConnectAsync(redisOptions);
    }

    public async ValueTask DisposeAsync()
    {
        if (_multiplexer is not null)
        {
            await _multiplexer.CloseAsync();
            _multiplexer.Dispose();
        }

        _embedded?.Dispose();
    }
}
