using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Random interleavings of purchases (some uploaded days late), redemptions, reward claims, returns, expiry runs on
/// two servers sharing Redis and the ledger, and Redis forgetting members. After every step each member's balance is
/// the sum of their lots, Redis equals the replay of their ledger, no lot is below zero, and a run of a day already
/// run (on the other server) expires nothing more.
/// </summary>
public sealed class PointsOverTimeSequenceTests : IAsyncLifetime
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
    private readonly string _reward = "voucher-" + Guid.NewGuid().ToString("N")[..8];
    private ServerInstance _first = null!;
    private ServerInstance _second = null!;

    public async Task InitializeAsync()
    {
        _first = await ServerInstance.StartAsync(s => s["Expiry:RunEnabled"] = "false", ownLedger: true);
        _second = await ServerInstance.StartAsync(s =>
        {
            s["Expiry:RunEnabled"] = "false";
            s["Ledger:ConnectionString"] = _first.LedgerConnectionString;
        });
        // Active since before the oldest purchase the sequence dates back, so every purchase is scored by it.
        await Programs.PublishActiveSinceAsync(_first, Programs.Document(Programs.Version(), $$"""
            "expiry": { "months": 12 },
            "rewards": [ { "id": "{{_reward}}", "name": "Voucher", "cost": 25, "stock": 30 } ]
            """), DateTimeOffset.UtcNow.AddDays(-100));
        // The other server takes the version from the ledger (as its watcher would within seconds).
        await _second.Get<ProgramProvider>().RefreshAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task Every_step_keeps_balance_lots_and_ledger_replay_equal_and_no_lot_expires_twice(int seed)
    {
        var random = new Random(seed);
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(_first)));
        var purchases = new List<ScoreRequest>();
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Paris).DateTime);
        // Lots earned up to 80 days back expire from 12 months minus 80 days on: the runs walk through those days.
        var lastExpiry = today.AddMonths(12);
        var runDay = lastExpiry.AddDays(-85);
        long expiredTotal = 0;
        var kinds = new HashSet<string>();
        for (var step = 0; step < 60; step++)
        {
            var memberId = members[random.Next(members.Length)];
            var server = random.Next(2) == 0 ? _first : _second;
            var choice = random.Next(10);
            string kind;
            if (choice < 4)
            {
                // Uploaded late, but not so late that its lot would have been due before the runs already done (days
                // in the future here): a lot due by the time it is recorded is marked for the next day's run instead.
                var latest = Math.Min(80, lastExpiry.DayNumber - runDay.DayNumber + 6);
                var request = Requests.Score(memberId, occurredAt: DateTimeOffset.UtcNow.AddDays(-random.Next(0, latest + 1)), lines: Requests.Line("sku", 1 + random.Next(3), 1_000 + random.Next(4_000)));
                await server.Scoring.ScoreAsync(request);
                purchases.Add(request);
                kind = "purchase";
            }
            else if (choice == 4)
            {
                kind = await Refusable(() => server.Scoring.RedeemAsync(Requests.Redeem(memberId, 1 + random.Next(60))).ResponseAsync, "redemption");
            }
            else if (choice == 5)
            {
                kind = await Refusable(() => server.Scoring.RedeemRewardAsync(new RedeemRewardRequest
                {
                    TransactionId = Ids.Transaction(), MemberId = memberId, RewardId = _reward, StoreId = "store-042", Channel = Channel.Store,
                    OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                }).ResponseAsync, "reward");
            }
            else if (choice == 6 && purchases.FirstOrDefault(p => p.MemberId == memberId) is { } purchase)
            {
                kind = await Refusable(() => server.Scoring.ReturnAsync(new ReturnRequest
                {
                    TransactionId = Ids.Transaction(), MemberId = memberId, PurchaseTransactionId = purchase.TransactionId, StoreId = "store-042",
                    Channel = Channel.Store, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
                    Lines = { new ReturnLine { LineIndex = 0, Quantity = 1 } },
                }).ResponseAsync, "return");
            }
            else if (choice is 7 or 8)
            {
                runDay = runDay.AddDays(random.Next(1, 8));
                runDay = runDay > lastExpiry ? lastExpiry : runDay;
                var asOf = ExpiryPolicy.DayKey(runDay);
                var run = await server.Get<PointExpiryRun>().RunAsync(asOf, null, CancellationToken.None);
                var other = (server == _first ? _second : _first).Get<PointExpiryRun>();
                // The same day again, elsewhere: the day is finished, and each member's transaction of the day replays.
                Assert.True((await other.RunAsync(asOf, null, CancellationToken.None)).AlreadyFinished);
                foreach (var id in members)
                {
                    Assert.Equal(0, await ExpireAgainAsync(server, id, asOf));
                }

                expiredTotal += run.Points;
                kind = "expiry";
            }
            else
            {
                await HotState.ForgetMemberAsync(memberId);
                kind = "redis lost the member";
            }

            kinds.Add(kind);
            foreach (var id in members)
            {
                await CheckAsync(id, $"seed {seed}, step {step} ({kind})");
            }
        }

        Assert.True(expiredTotal > 0, $"seed {seed}: nothing expired");
        Assert.Superset(new HashSet<string> { "purchase", "redemption", "expiry", "redis lost the member" }, kinds);
    }

    /// <summary>The points a member's expiry transaction of that day expires when sent again: 0 if it replays or finds nothing due.</summary>
    private static async Task<long> ExpireAgainAsync(ServerInstance server, string memberId, int asOf)
    {
        try
        {
            var result = await server.Get<TransactionPipeline>().ProcessAsync(
                Server.Transactions.Intents.ExpiryIntent.For(memberId, asOf, server.Get<ProgramProvider>().Current, server.Get<Server.Observability.LoyaltyMetrics>()),
                CancellationToken.None);
            return result.Replayed ? 0 : result.PointsExpired;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return 0;
        }
    }

    private static async Task<string> Refusable(Func<Task> call, string kind)
    {
        try
        {
            await call();
            return kind;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
        {
            return kind + " refused";
        }
    }

    private async Task CheckAsync(string memberId, string where)
    {
        var lots = await _first.Members.ListLotsAsync(new ListLotsRequest { MemberId = memberId });
        Assert.True(lots.Balance == lots.Lots.Sum(l => l.Points) + lots.UnlottedPoints + lots.OwedPoints, $"{where}: {memberId}'s lots do not add up to {lots.Balance}");
        Assert.All(lots.Lots, l => Assert.True(l.Points > 0, $"{where}: lot {l.EarnedOn} at {l.Points}"));
        Assert.Equal(0, lots.UnlottedPoints);
        Assert.Equal(await Ledger.SumPointsAsync(memberId, _first.LedgerConnectionString), lots.Balance);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_first, memberId);
    }
}
