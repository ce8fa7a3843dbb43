using Grpc.Core;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>Program documents for tests, and publishing them through the admin API.</summary>
internal static class Programs
{
    /// <summary>The sample program's basics (EUR, 1 pt per euro, Member/Silver/Gold) plus the given JSON members.</summary>
    public static string Document(string version, string extra = "") => $$"""
        {
          "id": "test", "version": "{{version}}", "currency": "EUR", "timeZone": "Europe/Paris",
          "earn": { "points": 1, "perMinor": 100, "rounding": "floor" },
          "tiers": [
            { "id": "member", "threshold": 0 },
            { "id": "silver", "threshold": 50000, "multiplier": 1.25 },
            { "id": "gold", "threshold": 200000, "multiplier": 1.5 }
          ]{{(extra.Length > 0 ? "," : string.Empty)}}
          {{extra}}
        }
        """;

    public static ProgramService.ProgramServiceClient Admin(ServerInstance server) =>
        new(server.CreateChannel(ServerInstance.AdminKey));

    public static async Task<ProgramVersion> PublishAsync(ServerInstance server, string document) =>
        (await Admin(server).PublishProgramAsync(new PublishProgramRequest { Document = document })).Program;

    /// <summary>
    /// Publishes a document and writes the ledger's history as if it had been published at <paramref name="since"/>
    /// (the versions before it active before that), then has the server load it: purchases dated back to then are
    /// scored by it.
    /// </summary>
    public static async Task<string> PublishActiveSinceAsync(ServerInstance server, string document, DateTimeOffset since)
    {
        var version = (await PublishAsync(server, document)).Version;
        await Ledger.MoveActivationsBackAsync(server.LedgerConnectionString, since);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        return version;
    }

    public static string Version() => "v-" + Guid.NewGuid().ToString("N")[..12];

    public static async Task<RpcException?> TryAsync(Func<Task> call)
    {
        try
        {
            await call();
            return null;
        }
        catch (RpcException ex)
        {
            return ex;
        }
    }
}
