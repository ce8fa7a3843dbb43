using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class IdempotencyTests
{
    [Fact]
    public async Task A_retry_returns_the_original_answer_marked_replayed_and_changes_nothing()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);

        var original = await server.Scoring.ScoreAsync(request);
        await server.Scoring.ScoreAsync(Requests.Score(memberId)); // the balance moves on
        var retry = await server.Scoring.ScoreAsync(request);

        Assert.True(retry.Replayed);
        Assert.False(original.Replayed);
        retry.Replayed = false;
        Assert.Equal(original, retry);
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));
        Assert.Equal(90, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
    }

    [Fact]
    public async Task The_same_id_with_different_content_is_rejected_and_changes_nothing()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);
        await server.Scoring.ScoreAsync(request);

        var altered = request.Clone();
        altered.Lines[0].Quantity = 3;
        var error = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => server.Scoring.ScoreAsync(altered).ResponseAsync);
        Assert.Contains(request.TransactionId, error.Status.Detail, StringComparison.Ordinal);

        // A redemption cannot reuse a purchase's id either.
        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => server.Scoring.RedeemAsync(Requests.Redeem(memberId, 10, request.TransactionId)).ResponseAsync);

        Assert.Equal(1, await Ledger.CountAsync(memberId));
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Fifty_concurrent_identical_calls_apply_once()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => server.Scoring.ScoreAsync(request).ResponseAsync));

        Assert.Single(responses, r => !r.Replayed);
        Assert.All(responses, r => Assert.Equal(45, r.Balance));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_late_retry_is_recognised_by_the_ledger_after_the_hot_state_expired_its_record()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        // Older than the test server's one-hour replay window: Redis cannot be trusted to remember it.
        var request = Requests.Score(memberId, occurredAt: DateTimeOffset.UtcNow.AddHours(-3));
        var original = await server.Scoring.ScoreAsync(request);
        await HotState.ForgetTransactionAsync(memberId, request.TransactionId);

        var retry = await server.Scoring.ScoreAsync(request);

        Assert.True(retry.Replayed);
        Assert.Equal(original.PointsEarned, retry.PointsEarned);
        Assert.Equal(original.Balance, retry.Balance);
        Assert.Equal(45, await HotState.BalanceAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));

        var altered = request.Clone();
        altered.StoreId = "another-store";
        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => server.Scoring.ScoreAsync(altered).ResponseAsync);
    }

    [Fact]
    public async Task An_id_reused_with_new_content_after_the_hot_state_forgot_it_is_refused_and_undone()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        var first = Requests.Score(memberId);
        await server.Scoring.ScoreAsync(first);
        await HotState.ForgetTransactionAsync(memberId, first.TransactionId);

        // A till whose counter restarted: same id, another purchase, a current time (so Redis sees nothing to check).
        var reused = Requests.Score(memberId, first.TransactionId, lines: Requests.Line("other", 1, 9_900));
        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => server.Scoring.ScoreAsync(reused).ResponseAsync);

        Assert.Equal(1, await Ledger.CountAsync(memberId));
        Assert.Equal(45, await Ledger.SumPointsAsync(memberId));
        Assert.Equal(45, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        Assert.Equal(90, (await server.Scoring.ScoreAsync(Requests.Score(memberId))).Balance);
    }

    [Fact]
    public async Task A_retry_after_redis_lost_everything_is_answered_from_the_ledger_and_state_is_rebuilt()
    {
        var server = await ServerInstance.Shared;
        var memberId = await EnrolledMemberAsync(server);
        var first = Requests.Score(memberId);
        var redemption = Requests.Redeem(memberId, 20);
        await server.Scoring.ScoreAsync(first);
        await server.Scoring.RedeemAsync(redemption);

        await HotState.ForgetMemberAsync(memberId);

        var retry = await server.Scoring.ScoreAsync(first);
        var redeemRetry = await server.Scoring.RedeemAsync(redemption);
        Assert.True(retry.Replayed);
        Assert.True(redeemRetry.Replayed);
        Assert.Equal(25, redeemRetry.Balance);

        var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        Assert.Equal(25, member.Balance);
        Assert.Equal(4_520, member.LifetimeSpendMinor);
        Assert.Equal(2, await Ledger.CountAsync(memberId));

        var next = await server.Scoring.ScoreAsync(Requests.Score(memberId));
        Assert.False(next.Replayed);
        Assert.Equal(70, next.Balance);
    }

    internal static async Task<string> EnrolledMemberAsync(ServerInstance server)
    {
        var memberId = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        return memberId;
    }
}
