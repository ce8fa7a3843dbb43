using Grpc.Core;
using Grpc.Net.Client;

namespace LoyaltyCore.LoadTests;

/// <summary>Several channels, each its own HTTP/2 connection, and the authorization header every call carries.</summary>
internal sealed class GrpcConnections : IDisposable
{
    public GrpcConnections(LoadOptions options)
    {
        Headers = new Metadata { { "authorization", "Bearer " + options.ApiKey } };
        var channels = new GrpcChannel[options.Channels];
        for (var i = 0; i < channels.Length; i++)
        {
            channels[i] = GrpcChannel.ForAddress(options.Target, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler
                {
                    // Each channel should be its own connection; it opens more only past the server's stream limit.
                    EnableMultipleHttp2Connections = true,
                    PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                    ConnectTimeout = TimeSpan.FromSeconds(10),
                },
                DisposeHttpClient = true,
            });
        }

        Channels = channels;
    }

    public IReadOnlyList<GrpcChannel> Channels { get; }

    /// <summary>Shared by every call: the client only reads it.</summary>
    public Metadata Headers { get; }

    public void Dispose()
    {
        foreach (var channel in Channels)
        {
            channel.Dispose();
        }
    }
}
