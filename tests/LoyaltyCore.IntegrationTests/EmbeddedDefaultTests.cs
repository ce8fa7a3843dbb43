using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The no-configuration default: in-process Garnet and a SQLite ledger, through the same code paths.</summary>
public sealed class EmbeddedDefaultTests
{
    [Fact]
    public async Task The_embedded_default_scores_replays_redeems_and_refuses_overdraft()
    {
        var directory = Directory.CreateTempSubdirectory("loyaltycore-embedded-");
        try
        {
            await using var server = await ServerInstance.StartAsync(settings =>
            {
                settings["HotState:Redis"] = string.Empty;
                settings["Ledger:Provider"] = "Sqlite";
                settings["Ledger:ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "ledger.db")}";
            });
            var memberId = Ids.Member();
            Assert.True((await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId })).Created);

            var request = Requests.Score(memberId, lines: Requests.Line("tv", 1, 50_000));
            var scored = await server.Scoring.ScoreAsync(request);
            var replayed = await server.Scoring.ScoreAsync(request);
            Assert.Equal(500, scored.Balance);
            Assert.Equal("silver", scored.Tier);
            Assert.True(replayed.Replayed);

            var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                try
                {
                    await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 30));
                    return true;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
                {
                    return false;
                }
            }));
            Assert.Equal(16, concurrent.Count(ok => ok));

            var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
            Assert.Equal(20, member.Balance);
            Assert.Equal("silver", member.Tier);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }
}
