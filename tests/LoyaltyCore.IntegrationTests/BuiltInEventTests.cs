using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The events the server fires itself: enrolment (explicit or by a first purchase) and a tier upgrade.</summary>
public sealed class BuiltInEventTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "autoEnroll": true,
            "rules": [
              { "id": "welcome", "name": "Welcome", "type": "event", "event": "enrolled", "points": 100, "when": { "referred": false } },
              { "id": "welcome-referred", "type": "event", "event": "enrolled", "points": 150, "when": { "referred": true } },
              { "id": "silver-bonus", "name": "Welcome to Silver", "type": "event", "event": "tier_reached", "points": 250,
                "reached": ["silver"], "limit": { "count": 1 } }
            ]
            """));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_new_member_earns_the_enrolment_bonus_once()
    {
        var memberId = Ids.Member();

        var enrolled = await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        var again = await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        var referred = await _server.Members.EnrollAsync(new EnrollRequest { MemberId = Ids.Member(), ReferrerMemberId = memberId });

        Assert.True(enrolled.Created);
        Assert.Equal((100L, 100L), (enrolled.PointsEarned, enrolled.Member.Balance));
        Assert.False(again.Created);
        Assert.Equal((0L, 100L), (again.PointsEarned, again.Member.Balance));
        Assert.Equal(150, referred.PointsEarned);
        Assert.Equal(1, await Ledger.CountAsync(memberId, "enrolled:" + memberId, _server.LedgerConnectionString));
        Assert.Equal(100, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_member_enrolled_by_a_first_purchase_earns_the_enrolment_bonus_after_it()
    {
        var memberId = Ids.Member();

        var purchase = await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.Equal(45, purchase.Balance);
        Assert.Equal(145, member.Balance);
        Assert.Equal(145, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(145, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task The_purchase_that_reaches_silver_carries_the_upgrade_bonus_and_a_rebuild_keeps_its_limit()
    {
        var memberId = Ids.Member();
        await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });

        var upgrade = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 60_000)));
        var before = await HotState.StateAsync(memberId);
        await HotState.ForgetMemberAsync(memberId);
        Assert.True(await _server.Get<MemberDirectory>().RebuildAsync(memberId, _server.Get<Server.Programs.ProgramProvider>().Current, CancellationToken.None));
        var after = await HotState.StateAsync(memberId);

        Assert.Equal(("member", "silver"), (upgrade.PreviousTier, upgrade.Tier));
        Assert.Equal([("base-earn", 600L), ("silver-bonus", 250L)], upgrade.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(950, upgrade.Balance);
        Assert.Equal(before, after);
        Assert.Contains(("k.e:silver-bonus", "1"), after);
        Assert.Equal(950, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
    }

    [Fact]
    public async Task Clients_cannot_record_the_events_the_server_fires()
    {
        var memberId = Ids.Member();
        await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });

        var refused = await RpcAssert.RejectsField("event", () => _server.Members.RecordEventAsync(new RecordEventRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, Event = "enrolled",
            OccurredAt = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ResponseAsync);

        Assert.Equal("'enrolled' is fired by the server itself and cannot be recorded", refused.FieldViolations[0].Description);
        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }
}
