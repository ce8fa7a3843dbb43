using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace LoyaltyCore.Server.Hosting;

/// <summary>
/// Which listener a request came in on, whatever port each was bound to (0 lets the kernel pick): each connection is
/// tagged by its listener, and each listener serves only its own paths.
/// </summary>
internal static class Listeners
{
    public const string Grpc = "grpc";
    public const string HttpApi = "http-api";
    public const string Metrics = "metrics";

    private const string Key = "loyaltycore.listener";

    public static void Tag(ListenOptions listen, string listener) =>
        listen.Use(next => connection =>
        {
            connection.Items[Key] = listener;
            return next(connection);
        });

    /// <summary>Metrics are scraped from the metrics listener only, which serves nothing else.</summary>
    public static bool Allows(HttpContext context)
    {
        var listener = context.Features.Get<IConnectionItemsFeature>()?.Items.TryGetValue(Key, out var tag) == true ? tag as string : null;
        var metrics = context.Request.Path.StartsWithSegments("/metrics", StringComparison.Ordinal);
        return listener is null || metrics == (listener == Metrics);
    }
}
