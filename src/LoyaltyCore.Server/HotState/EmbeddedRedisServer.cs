using System.Net;
using System.Net.Sockets;
using Garnet;

namespace LoyaltyCore.Server.HotState;

/// <summary>
/// The no-configuration default: Garnet, a Redis-compatible server, in process on a loopback port. The rest of the
/// server talks to it through StackExchange.Redis and the same Lua scripts as a real Redis.
/// </summary>
internal sealed class EmbeddedRedisServer : IDisposable
{
    private readonly GarnetServer _server;

    public EmbeddedRedisServer()
    {
        Port = FreeLoopbackPort();
        // Garnet's command-line form fills in the defaults its options object leaves unset.
        _server = new GarnetServer(
        [
            "--bind", "127.0.0.1",
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lua", "true",
            // Scripts must be atomic like Redis's: Garnet only guarantees that inside a transaction.
            "--lua-transaction-mode", "true",
            "--logger-level", "Warning",
        ]);
        _server.Start();
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public void Dispose() => _server.Dispose();

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
