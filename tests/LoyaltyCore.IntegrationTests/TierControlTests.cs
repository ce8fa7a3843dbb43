using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>SupportService.SetTier: a tier floor set by hand, through the real API, with every transaction guarantee.</summary>
public sealed class TierControlTests : IAsyncLifetime
{
    private ServerInstance _server = null!;
    private SupportService.SupportServiceClient _support = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "tierQualification": { "metric": "spend", "period": "sinceLastTierChange" }
            """));
        _support = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.SupportKey));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Today(int days = 0) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static SetTierRequest Floor(string memberId, string tier, string validUntil, string? transactionId = null) => new()
    {
        TransactionId = transactionId ?? Ids.Transaction(), MemberId = memberId, Tier = tier, ValidUntil = validUntil, Reason = "Complaint #4411: goodwill gesture",
    };

    [Fact]
    public async Task A_floor_set_by_support_lifts_the_tier_now_and_a_retry_replays_it()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var request = Floor(memberId, "gold", Today(30));

        var set = await _support.SetTierAsync(request);
        var retried = await _support.SetTierAsync(request);
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(("gold", "member", "gold"), (set.Tier, set.PreviousTier, set.FloorTier));
        Assert.Equal("Complaint #4411: goodwill gesture", set.Reason);
        Assert.True(retried.Replayed);
        Assert.Equal("gold", member.Tier);
        Assert.Equal(("gold", request.ValidUntil), (member.TierFloor, member.TierFloorUntil));
        Assert.Equal(("gold", "gold"), (purchase.PreviousTier, purchase.Tier));
        Assert.Contains(purchase.Breakdown, b => b.RuleId == "tier:gold");
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_retry_after_redis_forgot_the_first_attempt_replays_it_from_the_ledger()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var request = Floor(memberId, "gold", Today(30));
        var set = await _support.SetTierAsync(request);

        // A set tier has no time of its own: a retry hours later must still be recognised as the same call.
        Assert.True(await HotState.ForgetTransactionAsync(memberId, request.TransactionId));
        var retried = await _support.SetTierAsync(request);

        Assert.True(retried.Replayed);
        Assert.Equal((set.Tier, set.PreviousTier), (retried.Tier, retried.PreviousTier));
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_tier_set_by_hand_restarts_qualification_since_the_last_tier_change()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 30_000)));
        var counted = await HotState.Database.HashGetAsync($"lc:{{m:{memberId}}}:s", "k.qc");

        await _support.SetTierAsync(Floor(memberId, "silver", Today(30)));
        var restarted = await HotState.Database.HashGetAsync($"lc:{{m:{memberId}}}:s", "k.qc");
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal("30000", counted.ToString());
        Assert.Equal("0", restarted.ToString());
        Assert.Equal(("gold", 0L), (member.TierProgress.NextTier, member.TierProgress.QualifyingValue));
    }

    [Fact]
    public async Task Redis_rebuilt_from_the_ledger_keeps_the_floor()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _support.SetTierAsync(Floor(memberId, "silver", Today(10)));
        var before = await HotState.StateAsync(memberId);

        await HotState.ForgetMemberAsync(memberId);
        Assert.True(await _server.Get<MemberDirectory>().RebuildAsync(memberId, _server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal(before, await HotState.StateAsync(memberId));
        Assert.Equal("silver", member.Tier);
        Assert.Equal("silver", (await HotState.Database.HashGetAsync($"lc:{{m:{memberId}}}:s", "tf")).ToString());
    }

    [Fact]
    public async Task Removing_the_floor_leaves_the_tier_until_qualification_recomputes_it()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _support.SetTierAsync(Floor(memberId, "gold", Today(5)));

        var removed = await _support.SetTierAsync(Floor(memberId, string.Empty, string.Empty));

        Assert.Equal(("gold", string.Empty, string.Empty), (removed.Tier, removed.FloorTier, removed.ValidUntil));
    }

    [Fact]
    public async Task Bad_floors_are_refused_naming_the_field_and_change_nothing()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        await RpcAssert.RejectsField("tier", () => _support.SetTierAsync(Floor(memberId, "platinum", Today(5))).ResponseAsync);
        await RpcAssert.RejectsField("valid_until", () => _support.SetTierAsync(Floor(memberId, "gold", Today(-1))).ResponseAsync);
        await RpcAssert.RejectsField("valid_until", () => _support.SetTierAsync(Floor(memberId, "gold", "31/12/2026")).ResponseAsync);
        var noReason = Floor(memberId, "gold", Today(5));
        noReason.Reason = " ";
        await RpcAssert.RejectsField("reason", () => _support.SetTierAsync(noReason).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _support.SetTierAsync(Floor(Ids.Member(), "gold", Today(5))).ResponseAsync);

        Assert.Equal(0, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
        Assert.Equal("member", (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Tier);
    }

    [Fact]
    public async Task Only_support_and_admin_may_set_a_tier()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var asPos = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.PosKey));
        var asAdmin = new SupportService.SupportServiceClient(_server.CreateChannel(ServerInstance.AdminKey));

        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => asPos.SetTierAsync(Floor(memberId, "gold", Today(5))).ResponseAsync);
        var byAdmin = await asAdmin.SetTierAsync(Floor(memberId, "silver", Today(5)));

        Assert.Equal("silver", byAdmin.Tier);
    }
}
