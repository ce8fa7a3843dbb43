using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Random interleavings of purchases, redemptions and adjustments (credits, debits, forced debits) across a few
/// members, with retries and concurrent pairs. After every step each member's Redis state equals the replay of their
/// ledger, every retry replays, and no balance is negative unless a forced debit made it so.
/// </summary>
public sealed class MoneyFlowSequenceTests : IAsyncLifetime
{
    private ServerInstance _server = null!;
    private SupportService.SupportServiceClient _support = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        _support = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.SupportKey));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private abstract record Step(string MemberId);

    private sealed record Purchase(string MemberId, ScoreRequest Request) : Step(MemberId);

    private sealed record Redemption(string MemberId, RedeemRequest Request) : Step(MemberId);

    private sealed record Adjustment(string MemberId, AdjustPointsRequest Request) : Step(MemberId);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Every_step_leaves_redis_equal_to_the_ledger_replay_and_retries_replay(int seed)
    {
        var random = new Random(seed);
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(_server)));
        var forced = new HashSet<string>();
        var done = new List<Step>();
        var answered = 0;
        for (var i = 0; i < 40; i++)
        {
            var memberId = members[random.Next(members.Length)];
            var steps = random.Next(5) == 0
                ? new[] { NewStep(random, memberId), NewStep(random, memberId) }
                : random.Next(6) == 0 && done.Count > 0 ? [done[random.Next(done.Count)]] : [NewStep(random, memberId)];
            var results = await Task.WhenAll(steps.Select(RunAsync));
            foreach (var (step, (outcome, replayed)) in steps.Zip(results))
            {
                var retry = done.Contains(step);
                Assert.True(outcome is StatusCode.OK or StatusCode.FailedPrecondition, $"seed {seed}, step {i}: {step} answered {outcome}");
                Assert.True(outcome != StatusCode.OK || replayed == retry, $"seed {seed}, step {i}: {step} replayed {replayed}, retry {retry}");
                if (outcome == StatusCode.OK && !retry)
                {
                    done.Add(step);
                    answered++;
                    if (step is Adjustment { Request.Force: true })
                    {
                        forced.Add(step.MemberId);
                    }
                }
            }

            foreach (var touched in steps.Select(s => s.MemberId).Distinct())
            {
                var before = await HotState.StateAsync(touched);
                Assert.True(await _server.Get<MemberDirectory>().RebuildAsync(touched, _server.Get<ProgramProvider>().Current, CancellationToken.None));
                Assert.Equal(before, await HotState.StateAsync(touched));
                Assert.Equal(await Ledger.SumPointsAsync(touched, _server.LedgerConnectionString), await HotState.BalanceAsync(touched));
                if (!forced.Contains(touched))
                {
                    Assert.True(await HotState.BalanceAsync(touched) >= 0, $"seed {seed}, step {i}: {touched} overdrawn");
                }
            }
        }

        Assert.True(answered >= 20, $"seed {seed}: only {answered} steps went through");
        Assert.Contains(done, s => s is Adjustment);
        Assert.Contains(done, s => s is Redemption);
    }

    private static Step NewStep(Random random, string memberId) => random.Next(10) switch
    {
        < 4 => new Purchase(memberId, Requests.Score(memberId, lines: Requests.Line("sku", 1 + random.Next(3), 500 + random.Next(20_000)))),
        < 6 => new Redemption(memberId, Requests.Redeem(memberId, 1 + random.Next(300))),
        < 8 => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, 1 + random.Next(200), AdjustmentReason.Goodwill)),
        9 => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, -(1 + random.Next(400)), AdjustmentReason.Fraud, force: true)),
        _ => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, -(1 + random.Next(300)), AdjustmentReason.Correction)),
    };

    /// <returns>The call's status, and whether its answer said replayed.</returns>
    private async Task<(StatusCode Status, bool Replayed)> RunAsync(Step step)
    {
        try
        {
            var replayed = step switch
            {
                Purchase p => (await _server.Scoring.ScoreAsync(p.Request)).Replayed,
                Redemption r => (await _server.Scoring.RedeemAsync(r.Request)).Replayed,
                Adjustment a => (await _support.AdjustPointsAsync(a.Request)).Replayed,
                _ => throw new ArgumentOutOfRangeException(nameof(step)),
            };
            return (StatusCode.OK, replayed);
        }
        catch (RpcException ex)
        {
            return (ex.StatusCode, false);
        }
    }
}
