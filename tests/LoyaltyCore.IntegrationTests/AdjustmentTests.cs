using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>SupportService.AdjustPoints through the real API, with every transaction guarantee.</summary>
public sealed class AdjustmentTests : IAsyncLifetime
{
    private ServerInstance _server = null!;
    private SupportService.SupportServiceClient _support = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        _support = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.SupportKey));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    internal static AdjustPointsRequest Adjustment(string memberId, long points, AdjustmentReason reason = AdjustmentReason.Goodwill, string note = "Late delivery, order 7781", bool force = false) => new()
    {
        TransactionId = Ids.Transaction(), MemberId = memberId, Points = points, Reason = reason, Note = note, Force = force,
    };

    private async Task<string> MemberWithBalanceAsync(long spendMinor)
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, spendMinor)));
        return memberId;
    }

    [Fact]
    public async Task A_credit_is_recorded_with_its_reason_note_and_operator_and_a_retry_replays_it()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var request = Adjustment(memberId, 250);

        var credited = await _support.AdjustPointsAsync(request);
        var retried = await _support.AdjustPointsAsync(request);

        Assert.Equal((250L, 350L, false), (credited.Points, credited.Balance, credited.Replayed));
        Assert.Equal((AdjustmentReason.Goodwill, "Late delivery, order 7781", "support-test", false), (credited.Reason, credited.Note, credited.OperatorId, credited.Forced));
        Assert.True(retried.Replayed);
        Assert.Equal(credited.Balance, retried.Balance);
        Assert.Equal(350, await HotState.BalanceAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
        Assert.Equal(350, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task The_operator_is_the_calling_client_whoever_it_claims_to_be()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var asAdmin = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.AdminKey));

        var bySupport = await _support.AdjustPointsAsync(Adjustment(memberId, 10));
        var byAdmin = await asAdmin.AdjustPointsAsync(Adjustment(memberId, 20));

        Assert.Equal("support-test", bySupport.OperatorId);
        Assert.Equal("admin-test", byAdmin.OperatorId);
    }

    [Fact]
    public async Task A_debit_the_balance_cannot_cover_is_refused_and_changes_nothing()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var before = await HotState.StateAsync(memberId);

        var refused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _support.AdjustPointsAsync(Adjustment(memberId, -101, AdjustmentReason.Correction)).ResponseAsync);
        var exact = await _support.AdjustPointsAsync(Adjustment(memberId, -100, AdjustmentReason.Correction));

        Assert.Contains("balance is 100", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, exact.Balance);
        Assert.NotEqual(before, await HotState.StateAsync(memberId));
        Assert.Equal(2, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_forced_debit_overdraws_is_recorded_as_forced_and_later_earnings_repay_it()
    {
        var memberId = await MemberWithBalanceAsync(10_000);

        var forced = await _support.AdjustPointsAsync(Adjustment(memberId, -300, AdjustmentReason.Fraud, force: true));
        var refusedRedeem = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _server.Scoring.RedeemAsync(Requests.Redeem(memberId, 1)).ResponseAsync);
        var earned = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 30_000)));

        Assert.Equal((-200L, true), (forced.Balance, forced.Forced));
        Assert.Contains("balance is -200", refusedRedeem.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(100, earned.Balance);
        Assert.Equal(100, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task Reusing_an_id_with_other_content_is_already_exists()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var request = Adjustment(memberId, 40);
        await _support.AdjustPointsAsync(request);
        var other = request.Clone();
        other.Points = 41;

        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => _support.AdjustPointsAsync(other).ResponseAsync);

        Assert.Equal(140, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_retry_after_redis_forgot_the_first_attempt_replays_from_the_ledger_and_applies_nothing_twice()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var request = Adjustment(memberId, -60, AdjustmentReason.Correction);
        var first = await _support.AdjustPointsAsync(request);

        Assert.True(await HotState.ForgetTransactionAsync(memberId, request.TransactionId));
        var retried = await _support.AdjustPointsAsync(request);

        Assert.True(retried.Replayed);
        Assert.Equal(first.Balance, retried.Balance);
        Assert.Equal(40, await HotState.BalanceAsync(memberId));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task Concurrent_debits_never_overdraw_and_redis_equals_the_ledger()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            try
            {
                await _support.AdjustPointsAsync(Adjustment(memberId, -30, AdjustmentReason.Correction));
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));

        Assert.Equal(3, outcomes.Count(c => c == StatusCode.OK));
        Assert.All(outcomes, c => Assert.Contains(c, new[] { StatusCode.OK, StatusCode.FailedPrecondition }));
        Assert.Equal(10, await HotState.BalanceAsync(memberId));
        Assert.Equal(10, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task Redis_rebuilt_from_the_ledger_equals_redis_after_adjustments()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        await _support.AdjustPointsAsync(Adjustment(memberId, 500, AdjustmentReason.Migration));
        await _support.AdjustPointsAsync(Adjustment(memberId, -700, AdjustmentReason.Fraud, force: true));
        var before = await HotState.StateAsync(memberId);

        await HotState.ForgetMemberAsync(memberId);
        Assert.True(await _server.Get<MemberDirectory>().RebuildAsync(memberId, _server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None));

        Assert.Equal(Without(before, "v", "h"), Without(await HotState.StateAsync(memberId), "v", "h"));
        Assert.Equal(-100, await HotState.BalanceAsync(memberId));
    }

    private static List<(string Field, string Value)> Without(IEnumerable<(string Field, string Value)> state, params string[] fields) =>
        [.. state.Where(f => !fields.Contains(f.Field))];

    [Fact]
    public async Task Bad_adjustments_are_refused_naming_the_field_and_change_nothing()
    {
        var memberId = await MemberWithBalanceAsync(10_000);

        await RpcAssert.RejectsField("points", () => _support.AdjustPointsAsync(Adjustment(memberId, 0)).ResponseAsync);
        await RpcAssert.RejectsField("points", () => _support.AdjustPointsAsync(Adjustment(memberId, 1_000_000_001)).ResponseAsync);
        await RpcAssert.RejectsField("reason", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, AdjustmentReason.Unspecified)).ResponseAsync);
        await RpcAssert.RejectsField("reason", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, (AdjustmentReason)99)).ResponseAsync);
        await RpcAssert.RejectsField("note", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, AdjustmentReason.Other, note: " ")).ResponseAsync);
        await RpcAssert.RejectsField("note", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, note: new string('x', 501))).ResponseAsync);
        await RpcAssert.RejectsField("note", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, note: "line\nbreak")).ResponseAsync);
        await RpcAssert.RejectsField("force", () => _support.AdjustPointsAsync(Adjustment(memberId, 5, force: true)).ResponseAsync);
        var reserved = Adjustment(memberId, 5);
        reserved.TransactionId = "referral:" + Ids.Member();
        await RpcAssert.RejectsField("transaction_id", () => _support.AdjustPointsAsync(reserved).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _support.AdjustPointsAsync(Adjustment(Ids.Member(), 5)).ResponseAsync);

        Assert.Equal(1, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Tills_may_not_adjust_points()
    {
        var memberId = await MemberWithBalanceAsync(10_000);
        var asPos = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.PosKey));

        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => asPos.AdjustPointsAsync(Adjustment(memberId, 5)).ResponseAsync);

        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task With_tiers_on_the_balance_a_credit_moves_the_tier_up_and_earns_no_rule()
    {
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "tierQualification": { "metric": "balance" }
            """));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var credited = await _support.AdjustPointsAsync(Adjustment(memberId, 50_000, AdjustmentReason.Migration));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal(("silver", 50_000L), (credited.Tier, credited.Balance));
        Assert.Equal("silver", member.Tier);
        Assert.Equal(50_000, member.Balance);
    }
}
