using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Random interleavings of purchases, redemptions, adjustments (credits, debits, forced debits), holds, captures,
/// voids and hold expiry across a few members, with retries and concurrent pairs. After every step each member's
/// Redis state equals the replay of their ledger, every retry replays, and no available balance is negative unless a
/// forced debit or a return of spent points (the allow policy) made it so.
/// </summary>
public sealed class MoneyFlowSequenceTests : IAsyncLifetime
{
    private readonly ShiftableClock _clock = new();
    private readonly List<(string MemberId, string HoldId, long Points)> _holds = [];
    private readonly List<Purchase> _purchases = [];
    private readonly HashSet<string> _returnedBelowZero = [];
    private ServerInstance _server = null!;
    private SupportService.SupportServiceClient _support = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(s => s["Holds:ExpiryRunEnabled"] = "false", ownLedger: true, clock: _clock);
        _support = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.SupportKey));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private abstract record Step(string MemberId);

    private sealed record Purchase(string MemberId, ScoreRequest Request) : Step(MemberId);

    private sealed record Redemption(string MemberId, RedeemRequest Request) : Step(MemberId);

    private sealed record Adjustment(string MemberId, AdjustPointsRequest Request) : Step(MemberId);

    private sealed record Hold(string MemberId, AuthorizeRequest Request) : Step(MemberId);

    private sealed record Capture(string MemberId, CaptureRequest Request) : Step(MemberId);

    private sealed record Release(string MemberId, VoidRequest Request) : Step(MemberId);

    private sealed record GoodsBack(string MemberId, ReturnRequest Request) : Step(MemberId);

    /// <summary>The clock passes a short hold's lifetime and the expiry run goes.</summary>
    private sealed record Expiry(string MemberId) : Step(MemberId);

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
        for (var i = 0; i < 80; i++)
        {
            var memberId = members[random.Next(members.Length)];
            var steps = random.Next(5) == 0
                ? new[] { NewStep(random, memberId), NewStep(random, memberId) }
                : random.Next(6) == 0 && done.Count > 0 ? [done[random.Next(done.Count)]] : [NewStep(random, memberId)];
            if (random.Next(12) == 0)
            {
                steps = [new Expiry(memberId)];
            }

            var results = await Task.WhenAll(steps.Select(RunAsync));
            foreach (var (step, (outcome, replayed)) in steps.Zip(results))
            {
                var retry = done.Contains(step);
                Assert.True(outcome is StatusCode.OK or StatusCode.FailedPrecondition, $"seed {seed}, step {i}: {step} answered {outcome}");
                if (step is Purchase bought && outcome == StatusCode.OK && !retry)
                {
                    _purchases.Add(bought);
                }

                if (step is Hold h && outcome == StatusCode.OK && !retry)
                {
                    _holds.Add((h.MemberId, h.Request.TransactionId, h.Request.Points));
                }

                Assert.True(outcome != StatusCode.OK || replayed == retry, $"seed {seed}, step {i}: {step} replayed {replayed}, retry {retry}");
                if (outcome == StatusCode.OK && !retry && step is not Expiry)
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
                var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = touched });
                Assert.Equal(member.Balance - member.Holds.Sum(h => h.Points), member.AvailablePoints);
                // A forced debit, and a return of spent points under the program's allow policy, may go below zero.
                if (!forced.Contains(touched) && !_returnedBelowZero.Contains(touched))
                {
                    Assert.True(member.AvailablePoints >= 0, $"seed {seed}, step {i}: {touched} overdrawn ({member.AvailablePoints} available)");
                }
            }
        }

        Assert.True(answered >= 20, $"seed {seed}: only {answered} steps went through");
        Assert.Contains(done, s => s is Adjustment);
        Assert.Contains(done, s => s is Redemption);
        Assert.Contains(done, s => s is Hold);
        Assert.Contains(done, s => s is Capture or Release);
        Assert.Contains(done, s => s is GoodsBack);
    }

    private Step NewStep(Random random, string memberId)
    {
        var purchases = _purchases.Where(p => p.MemberId == memberId).ToList();
        if (purchases.Count > 0 && random.Next(8) == 0)
        {
            var purchase = purchases[random.Next(purchases.Count)].Request;
            var request = new ReturnRequest
            {
                TransactionId = Ids.Transaction(), MemberId = memberId, PurchaseTransactionId = purchase.TransactionId, StoreId = "store-042",
                Channel = Channel.Store, OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            };
            if (random.Next(2) == 0)
            {
                // One unit or more of the line, sometimes more than is left, which is refused.
                request.Lines.Add(new ReturnLine { LineIndex = 0, Quantity = 1 + random.Next(purchase.Lines[0].Quantity) });
            }

            return new GoodsBack(memberId, request);
        }

        var holds = _holds.Where(h => h.MemberId == memberId).ToList();
        var choice = random.Next(16);
        if (choice >= 10 && holds.Count == 0)
        {
            choice = 10;
        }

        // A hold on another member's id, or one that has ended, is refused; both are part of the mix.
        var (_, holdId, held) = holds.Count > 0 ? holds[random.Next(holds.Count)] : default;
        return choice switch
        {
            10 => new Hold(memberId, HoldTests.Authorize(memberId, 1 + random.Next(200), lifetimeSeconds: random.Next(3) == 0 ? 1 : 0)),
            // Now and then more than the hold holds, which is refused.
            11 or 12 or 13 => new Capture(memberId, HoldTests.Capture(memberId, holdId, 1 + random.Next((int)held + (random.Next(5) == 0 ? 10 : 0)))),
            _ when choice >= 14 => new Release(memberId, HoldTests.Void(memberId, holdId)),
            _ => OtherStep(random, memberId, choice),
        };
    }

    private static Step OtherStep(Random random, string memberId, int choice) => choice switch
    {
        < 4 => new Purchase(memberId, Requests.Score(memberId, lines: Requests.Line("sku", 1 + random.Next(3), 500 + random.Next(20_000)))),
        < 6 => new Redemption(memberId, Requests.Redeem(memberId, 1 + random.Next(300))),
        < 8 => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, 1 + random.Next(200), AdjustmentReason.Goodwill)),
        9 => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, -(1 + random.Next(400)), AdjustmentReason.Fraud, force: true)),
        _ => new Adjustment(memberId, AdjustmentTests.Adjustment(memberId, -(1 + random.Next(300)), AdjustmentReason.Correction)),
    };

    private async Task<bool> ReturnAsync(GoodsBack step)
    {
        var answer = await _server.Scoring.ReturnAsync(step.Request);
        if (answer.AvailablePoints < 0)
        {
            _returnedBelowZero.Add(step.MemberId);
        }

        return answer.Replayed;
    }

    private async Task<bool> ExpireAsync()
    {
        _clock.Advance(TimeSpan.FromSeconds(2));
        await _server.Get<HoldExpiryRun>().RunAsync(_clock.GetUtcNow(), CancellationToken.None);
        return false;
    }

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
                Hold h => (await _server.Scoring.AuthorizeAsync(h.Request)).Replayed,
                Capture c => (await _server.Scoring.CaptureAsync(c.Request)).Replayed,
                Release r => (await _server.Scoring.VoidAsync(r.Request)).Replayed,
                GoodsBack g => await ReturnAsync(g),
                Expiry => await ExpireAsync(),
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
