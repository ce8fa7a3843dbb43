using Dapper;
using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using Npgsql;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// The floor the load tests measure the pipeline against (EchoService's durable calls) really does the writes it
/// stands for: a floor that skipped them would make every target look out of reach.
/// </summary>
public sealed class DurableFloorTests
{
    [Fact]
    public async Task Each_floor_call_writes_its_hash_increment_and_its_durable_row_once_before_answering()
    {
        await using var server = await ServerInstance.StartAsync(s => s["Benchmark:EnableEcho"] = "true", ownLedger: true);
        using var channel = server.CreateChannel(ServerInstance.PosKey);
        var echo = new EchoService.EchoServiceClient(channel);
        var memberId = Ids.Member();
        ScoreRequest Request(string id) => Requests.Score(memberId, id, lines: [Requests.Line("a", 1, 100), Requests.Line("b", 1, 100)]);

        // Answered only once both writes are done: the row and the increment are there when the call returns.
        await echo.EchoDurableAsync(Request("first"));
        await using (var first = new NpgsqlConnection(server.LedgerConnectionString))
        {
            Assert.Equal(1, await first.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM bench_floor WHERE member_id = @memberId", new { memberId }));
        }

        Assert.Equal(2, (long)await HotState.Database.HashGetAsync($"bench:{{{memberId}}}:floor", "p"));

        var calls = new List<Task>();
        for (var i = 0; i < 20; i++)
        {
            calls.Add(echo.EchoRedisAsync(Request($"r-{i}")).ResponseAsync);
            calls.Add(echo.EchoLedgerAsync(Request($"l-{i}")).ResponseAsync);
            calls.Add(echo.EchoDurableAsync(Request($"d-{i}")).ResponseAsync);
        }

        await Task.WhenAll(calls);
        using var stream = echo.EchoDurableStream();
        for (var i = 0; i < 10; i++)
        {
            await stream.RequestStream.WriteAsync(Request($"s-{i}"));
        }

        await stream.RequestStream.CompleteAsync();
        var answered = new List<string>();
        await foreach (var answer in stream.ResponseStream.ReadAllAsync())
        {
            answered.Add(answer.Response.TransactionId);
        }

        await using var connection = new NpgsqlConnection(server.LedgerConnectionString);
        var rows = (await connection.QueryAsync<string>("SELECT transaction_id FROM bench_floor WHERE member_id = @memberId", new { memberId })).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"s-{i}"), answered);
        Assert.Equal(51, rows.Count);
        Assert.Equal(51, rows.Distinct().Count());
        Assert.DoesNotContain(rows, id => id.StartsWith("r-", StringComparison.Ordinal));
        // Two points (one per line) for each of the 1 + 20 + 20 + 10 calls that write Redis.
        Assert.Equal(102, (long)await HotState.Database.HashGetAsync($"bench:{{{memberId}}}:floor", "p"));
    }

    [Fact]
    public async Task The_ledger_floor_needs_postgresql()
    {
        var directory = Directory.CreateTempSubdirectory("loyaltycore-floor-");
        try
        {
            await using var server = await ServerInstance.StartAsync(settings =>
            {
                settings["Benchmark:EnableEcho"] = "true";
                settings["Ledger:Provider"] = "Sqlite";
                settings["Ledger:ConnectionString"] = $"Data Source={Path.Combine(directory.FullName, "ledger.db")}";
            });
            using var channel = server.CreateChannel(ServerInstance.PosKey);
            var echo = new EchoService.EchoServiceClient(channel);

            await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => echo.EchoDurableAsync(Requests.Score(Ids.Member())).ResponseAsync);
            await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => echo.EchoLedgerAsync(Requests.Score(Ids.Member())).ResponseAsync);
            // In a stream the refusal is that message's answer, and the stream goes on.
            using var stream = echo.EchoDurableStream();
            await stream.RequestStream.WriteAsync(Requests.Score(Ids.Member(), "s-1"));
            await stream.RequestStream.WriteAsync(Requests.Score(Ids.Member(), "s-2"));
            await stream.RequestStream.CompleteAsync();
            var answers = new List<ScoreStreamResponse>();
            await foreach (var answer in stream.ResponseStream.ReadAllAsync())
            {
                answers.Add(answer);
            }

            Assert.Equal(["s-1", "s-2"], answers.Select(a => a.TransactionId));
            Assert.All(answers, a => Assert.Equal((int)StatusCode.FailedPrecondition, a.Error.Code));
            Assert.Equal("t-1", (await echo.EchoRedisAsync(Requests.Score(Ids.Member(), "t-1")).ResponseAsync).TransactionId);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }
}
