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
                "reached": ["silver"], "limit": { "count": 1 } },
              { "id": "birthday-gift", "name": "Happy birthday", "type": "event", "event": "birthday", "points": 300 }
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
    public async Task The_birthday_run_rewards_each_member_once_a_year_however_many_runs_go_at_once()
    {
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => EnrolledWithBirthdayAsync("07-14")));
        var otherDay = await EnrolledWithBirthdayAsync("07-15");
        var run = _server.Get<BirthdayRun>();
        var bastilleDay = new DateTimeOffset(2026, 7, 14, 10, 0, 0, TimeSpan.Zero);

        var concurrent = await Task.WhenAll(run.RunAsync(bastilleDay, CancellationToken.None), run.RunAsync(bastilleDay.AddHours(5), CancellationToken.None));
        var rerun = await run.RunAsync(bastilleDay.AddHours(6), CancellationToken.None);
        var nextYear = await run.RunAsync(bastilleDay.AddYears(1), CancellationToken.None);

        Assert.Equal(3, concurrent.Sum());
        Assert.Equal(0, rerun);
        Assert.Equal(3, nextYear);
        foreach (var memberId in members)
        {
            Assert.Equal(100 + 600, await HotState.BalanceAsync(memberId));
            Assert.Equal(700, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
            Assert.Equal(1, await Ledger.CountAsync(memberId, "birthday:2026", _server.LedgerConnectionString));
        }

        Assert.Equal(100, await HotState.BalanceAsync(otherDay));
    }

    [Fact]
    public async Task The_birthday_run_goes_past_members_it_cannot_reward_and_trusts_the_state_over_the_column()
    {
        var moved = await EnrolledWithBirthdayAsync("08-01");
        var run = _server.Get<BirthdayRun>();
        await run.RunAsync(new DateTimeOffset(2026, 8, 1, 10, 0, 0, TimeSpan.Zero), CancellationToken.None);
        // Rewarded on 1 August, then the birthday moves to 2 August: the 2026 birthday was had.
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = moved, Birthday = "08-02" });
        var stale = await EnrolledWithBirthdayAsync("08-03");
        await _server.Get<Server.Ledger.LedgerStore>().SetBirthdayAsync(stale, 802, CancellationToken.None);
        var others = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => EnrolledWithBirthdayAsync("08-02")));

        var rewarded = await run.RunAsync(new DateTimeOffset(2026, 8, 2, 10, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(2, rewarded);
        Assert.Equal(400, await HotState.BalanceAsync(moved));
        Assert.Equal(100, await HotState.BalanceAsync(stale));
        foreach (var memberId in others)
        {
            Assert.Equal(400, await HotState.BalanceAsync(memberId));
        }
    }

    [Theory]
    [InlineData(2027, true)]
    [InlineData(2028, false)]
    public async Task A_member_born_on_29_february_celebrates_on_the_28th_in_other_years(int year, bool rewarded)
    {
        var memberId = await EnrolledWithBirthdayAsync("02-29");

        await _server.Get<BirthdayRun>().RunAsync(new DateTimeOffset(year, 2, 28, 12, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(rewarded ? 400 : 100, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_birthday_is_shown_validated_and_cleared()
    {
        var memberId = await EnrolledWithBirthdayAsync("12-31");

        var shown = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        await RpcAssert.RejectsField("birthday", () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Birthday = "02-30" }).ResponseAsync);
        await RpcAssert.RejectsField("birthday", () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Birthday = "1990-12-31" }).ResponseAsync);
        var cleared = await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Birthday = string.Empty });
        var rewarded = await _server.Get<BirthdayRun>().RunAsync(new DateTimeOffset(2026, 12, 31, 12, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal("12-31", shown.Birthday);
        Assert.Equal(string.Empty, cleared.Birthday);
        Assert.Equal(0, rewarded);
        Assert.Equal(100, await HotState.BalanceAsync(memberId));
    }

    private async Task<string> EnrolledWithBirthdayAsync(string birthday)
    {
        var memberId = Ids.Member();
        await _server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        var updated = await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Birthday = birthday });
        Assert.Equal(birthday, updated.Birthday);
        return memberId;
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
