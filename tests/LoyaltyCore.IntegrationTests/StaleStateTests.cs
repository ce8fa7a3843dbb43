using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using static LoyaltyCore.IntegrationTests.Infrastructure.ReplayAssert;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// A hot state that lost committed changes, as a Redis replica promoted before it received its primary's last writes
/// holds it (made here by putting a member's keys back as they were): the ledger records no change applied on it, however
/// many are chained on it across servers, and every call ends with the answer the ledger's state gives.
/// </summary>
[Collection(nameof(StaleStateTests))]
public sealed class StaleStateTests : IAsyncLifetime
{
    private ServerInstance _a = null!;
    private ServerInstance _b = null!;

    public async Task InitializeAsync()
    {
        _a = await ServerInstance.StartAsync(ownLedger: true);
        _b = await ServerInstance.StartAsync(s => s["Ledger:ConnectionString"] = _a.LedgerConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _b.DisposeAsync();
        await _a.DisposeAsync();
    }

    [Fact]
    public async Task Changes_chained_across_servers_on_a_state_that_lost_a_committed_change_are_refused_and_decided_again_on_the_ledgers_state()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_a);
        for (var i = 0; i < 3; i++)
        {
            await _a.Scoring.ScoreAsync(Requests.Score(memberId));
        }

        var before = (await _a.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance;
        var stale = await MemberKeys.DumpAsync(HotState.Node, HotState.Database, memberId);
        // Committed and acknowledged, then lost by Redis: 35 points remain.
        var lost = Requests.Redeem(memberId, before - 35);
        await _a.Scoring.RedeemAsync(lost);
        await MemberKeys.RestoreAsync(HotState.Node, HotState.Database, stale);

        // Two redemptions applied on the stale state through A and held before their commit, then a third through B
        // applied on top of them.
        var first = Requests.Redeem(memberId, 10);
        var second = Requests.Redeem(memberId, 10);
        var third = Requests.Redeem(memberId, 10);
        var gate = new CommitGate(_a, first.TransactionId, second.TransactionId);
        var firstCall = _a.Scoring.RedeemAsync(first).ResponseAsync;
        await gate.UntilHeldAsync(1);
        var secondCall = _a.Scoring.RedeemAsync(second).ResponseAsync;
        await gate.UntilHeldAsync(2);
        Assert.Equal(before - 20, await HotState.BalanceAsync(memberId));
        var thirdCall = _b.Scoring.RedeemAsync(third).ResponseAsync;

        // The third follows a change the ledger does not hold yet: it waits for it rather than being recorded.
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.False(thirdCall.IsCompleted);
        gate.Open();

        var answers = await Task.WhenAll(firstCall, secondCall, thirdCall);

        // Each decided again on 35 points: 25, 15, 5 in some order, and nothing recorded on the stale balance.
        Assert.All(answers, a => Assert.Equal(10, a.PointsRedeemed));
        Assert.Equal(new long[] { 5, 15, 25 }, answers.Select(a => a.Balance).Order());
        Assert.Empty(await Ledger.BalancesOffTheLedgerAsync(memberId, _a.LedgerConnectionString));
        foreach (var request in new[] { lost, first, second, third })
        {
            Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _a.LedgerConnectionString));
        }

        Assert.Equal(5, await Ledger.SumPointsAsync(memberId, _a.LedgerConnectionString));
        Assert.Equal(5, (await _b.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        await RedisIsTheLedgersReplayAsync(_a, memberId);
    }

    [Fact]
    public async Task A_retry_applied_again_because_its_record_was_lost_is_answered_from_the_ledger_which_keeps_its_first_change()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_a);
        await _a.Scoring.ScoreAsync(Requests.Score(memberId));
        var stale = await MemberKeys.DumpAsync(HotState.Node, HotState.Database, memberId);

        // The purchase is applied and held before its commit; Redis then loses it (its record too), and the till's
        // retry is applied again on the state before it, as another change under the same number.
        var purchase = Requests.Score(memberId);
        var gate = new CommitGate(_a, purchase.TransactionId);
        var original = _a.Scoring.ScoreAsync(purchase).ResponseAsync;
        await gate.UntilHeldAsync(1);
        await MemberKeys.RestoreAsync(HotState.Node, HotState.Database, stale);
        var retry = _a.Scoring.ScoreAsync(purchase).ResponseAsync;
        await gate.UntilHeldAsync(2);
        gate.Open();

        var answers = await Task.WhenAll(original, retry);

        Assert.Equal(answers[0].PointsEarned, answers[1].PointsEarned);
        Assert.Equal(answers[0].Balance, answers[1].Balance);
        Assert.Equal(1, await Ledger.CountAsync(memberId, purchase.TransactionId, _a.LedgerConnectionString));
        Assert.Empty(await Ledger.BalancesOffTheLedgerAsync(memberId, _a.LedgerConnectionString));
        // Redis names the change the ledger kept as the member's last, for the next change to follow.
        await RedisIsTheLedgersReplayAsync(_a, memberId);
        var next = await _b.Scoring.ScoreAsync(Requests.Score(memberId));
        Assert.Equal(answers[0].Balance + next.PointsEarned, next.Balance);
        await RedisIsTheLedgersReplayAsync(_b, memberId);
    }
}
