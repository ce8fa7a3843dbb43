using System.Globalization;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Purchases uploaded late (offline tills): each is scored by the version that was active when it happened, with its
/// time, its own day's counters and the shared budgets as they are now. The ledger records activations at the
/// database's clock, so each test publishes its versions and then moves their activations into the past.
/// </summary>
public sealed class LatePurchaseTests
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    [Fact]
    public async Task A_day_uploaded_after_a_program_change_is_scored_by_the_version_active_at_each_purchase()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var (before, after) = (Programs.Version(), Programs.Version());
        await Programs.PublishAsync(server, Programs.Document(before, """ "rules": [ { "id": "old-bonus", "type": "bonus", "points": 7 } ] """));
        await Programs.PublishAsync(server, Programs.Document(after, """ "rules": [ { "id": "new-bonus", "type": "bonus", "points": 11 } ] """));
        // The store's day: yesterday; the new version was activated at 13:00 that day.
        var yesterday = Today().AddDays(-1);
        var change = Local(yesterday.AddHours(13));
        await Ledger.MoveActivationsBackAsync(server.LedgerConnectionString, change.AddDays(-10));
        await Ledger.MoveActivationAsync(server.LedgerConnectionString, after, change);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var now = DateTimeOffset.UtcNow;
        var day = new (DateTimeOffset At, string Version)[]
        {
            (Local(yesterday.AddHours(8)), before),
            (Local(yesterday.AddHours(10.5)), before),
            (change.AddMilliseconds(-1), before),
            (change, after),
            (Local(yesterday.AddHours(16)), after),
            (Local(yesterday.AddHours(19.75)), after),
            (now, after),
        };
        var requests = day.Select(p => Requests.Score(memberId, occurredAt: p.At)).ToList();

        var answers = await StreamTests.StreamAsync(server, requests);

        Assert.All(answers, a => Assert.Equal(ScoreStreamResponse.ResultOneofCase.Response, a.ResultCase));
        Assert.Equal(day.Select(p => p.Version), answers.Select(a => a.Response.ProgramVersion));
        Assert.Equal(day.Select(p => p.Version == before ? "base-earn,old-bonus" : "base-earn,new-bonus"), answers.Select(a => string.Join(',', a.Response.Breakdown.Select(b => b.RuleId))));
        Assert.Equal(day.Select(p => p.Version == before ? 45L + 7 : 45L + 11), answers.Select(a => a.Response.PointsEarned));
        var recorded = await Ledger.PurchaseVersionsAsync(server.LedgerConnectionString, memberId);
        Assert.Equal(day.Select(p => p.Version), requests.Select(r => recorded[r.TransactionId]));
        Assert.Equal(await Ledger.SumPointsAsync(memberId, server.LedgerConnectionString), await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Campaign_windows_days_of_the_week_and_times_of_day_follow_the_purchases_time()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var today = Today();
        var campaign = "flash-" + Guid.NewGuid().ToString("N")[..8];
        var weekday = today.AddDays(-5).DayOfWeek.ToString().ToLowerInvariant();
        await Programs.PublishActiveSinceAsync(server, Programs.Document(Programs.Version(), $$"""
            "rules": [
              { "id": "weekday", "type": "bonus", "points": 9, "when": { "daysOfWeek": ["{{weekday}}"] } },
              { "id": "breakfast", "type": "bonus", "points": 4, "when": { "timeOfDay": { "from": "07:00", "to": "10:00" } } }
            ],
            "campaigns": [ { "id": "{{campaign}}", "window": { "start": "{{LocalText(today.AddDays(-3))}}", "end": "{{LocalText(today.AddDays(-2))}}", "timeZone": "Europe/Paris" },
              "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 20 } ] } ]
            """), Local(today.AddDays(-30)));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);

        var inWindow = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Local(today.AddDays(-3).AddHours(12))));
        var thatWeekdayAtBreakfast = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Local(today.AddDays(-5).AddHours(8.5))));
        var yesterdayEvening = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Local(today.AddDays(-1).AddHours(20))));
        var now = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(["base-earn", campaign + "-bonus"], inWindow.Breakdown.Select(b => b.RuleId));
        Assert.Equal(["base-earn", "weekday", "breakfast"], thatWeekdayAtBreakfast.Breakdown.Select(b => b.RuleId));
        Assert.Equal(["base-earn"], yesterdayEvening.Breakdown.Select(b => b.RuleId));
        // Now: past the window, another weekday (breakfast depends on when the test runs).
        Assert.DoesNotContain(now.Breakdown, b => b.RuleId == campaign + "-bonus" || b.RuleId == "weekday");
    }

    [Fact]
    public async Task A_late_purchase_counts_for_the_daily_cap_and_the_nth_purchase_of_its_own_day()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var today = Today();
        await Programs.PublishActiveSinceAsync(server, Programs.Document(Programs.Version(), """
            "caps": { "perMemberPerDay": 100 },
            "rules": [ { "id": "second-of-day", "type": "bonus", "points": 5, "when": { "nthPurchase": { "n": 2, "period": "day" } } } ]
            """), Local(today.AddDays(-30)));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var now = DateTimeOffset.UtcNow;
        var line = Requests.Line("lamp", 1, 6_000);

        var todayFirst = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: now, lines: line));
        var lateFirst = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Local(today.AddDays(-1).AddHours(12)), lines: line));
        var lateSecond = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: Local(today.AddDays(-1).AddHours(15)), lines: line));
        var afterUpload = await HotState.StateAsync(memberId);
        var todaySecond = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: now, lines: line));
        var afterToday = await HotState.StateAsync(memberId);

        Assert.Equal(60, todayFirst.PointsEarned);
        // Yesterday's cap and count start from nothing, whatever today's purchase did.
        Assert.Equal(60, lateFirst.PointsEarned);
        Assert.DoesNotContain(lateFirst.Breakdown, b => b.RuleId == "second-of-day");
        Assert.Equal(40, lateSecond.PointsEarned);
        Assert.Contains(lateSecond.Breakdown, b => b.RuleId == "second-of-day");
        // Today's cap and count are what today's purchases made them, whatever the upload did.
        Assert.Equal(40, todaySecond.PointsEarned);
        Assert.Contains(todaySecond.Breakdown, b => b.RuleId == "second-of-day");
        var (todayKey, yesterdayKey) = (DayKey(today), DayKey(today.AddDays(-1)));
        Assert.Equal([("k.d:" + yesterdayKey, "100"), ("k.d:" + todayKey, "60"), ("k.nd:" + yesterdayKey, "2"), ("k.nd:" + todayKey, "1")], afterUpload.Where(c => IsCounter(c.Field)));
        // Today's purchase drops the counters of the days before its own.
        Assert.Equal([("k.d:" + todayKey, "100"), ("k.nd:" + todayKey, "2")], afterToday.Where(c => IsCounter(c.Field)));
    }

    [Fact]
    public async Task An_earlier_versions_campaign_gone_from_the_active_one_draws_on_what_its_budget_has_left()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var campaign = "gone-" + Guid.NewGuid().ToString("N")[..8];
        var (withCampaign, without) = (Programs.Version(), Programs.Version());
        await Programs.PublishAsync(server, Programs.Document(withCampaign, $$"""
            "campaigns": [ { "id": "{{campaign}}", "budget": 50, "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 30 } ] } ]
            """));
        await Programs.PublishAsync(server, Programs.Document(without));
        var dropped = Local(Today().AddDays(-2));
        await Ledger.MoveActivationsBackAsync(server.LedgerConnectionString, dropped.AddDays(-10));
        await Ledger.MoveActivationAsync(server.LedgerConnectionString, without, dropped);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        Task<ScoreResponse> LateAsync(int daysBeforeDrop) => server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: dropped.AddDays(-daysBeforeDrop))).ResponseAsync;

        var first = await LateAsync(5);
        var second = await LateAsync(4);
        await HotState.Database.KeyDeleteAsync([$"lc:{{c:{campaign}}}:r", $"lc:{{c:{campaign}}}:t"]);
        var afterRedisLostIt = await LateAsync(3);
        var today = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(withCampaign, first.ProgramVersion);
        Assert.Equal(30, first.Breakdown.Single(b => b.RuleId == campaign + "-bonus").Points);
        Assert.Equal(20, second.Breakdown.Single(b => b.RuleId == campaign + "-bonus").Points);
        // Set up again from the ledger's draws, at the amount of the version that has the campaign: nothing is left.
        Assert.Equal(withCampaign, afterRedisLostIt.ProgramVersion);
        Assert.Equal(45, afterRedisLostIt.PointsEarned);
        Assert.Equal(0, afterRedisLostIt.Breakdown.Single(b => b.RuleId == campaign + "-bonus").Points);
        Assert.Equal(without, today.ProgramVersion);
        Assert.Equal(["base-earn"], today.Breakdown.Select(b => b.RuleId));
        Assert.Equal(50, await Ledger.CampaignDrawnAsync(server.LedgerConnectionString, campaign));
        Assert.Empty((await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns);
    }

    [Fact]
    public async Task A_budget_lost_by_redis_is_set_up_again_at_the_active_versions_amount_whichever_version_finds_it_missing()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var campaign = "grown-" + Guid.NewGuid().ToString("N")[..8];
        string Program(string version, long budget) => Programs.Document(version, $$"""
            "campaigns": [ { "id": "{{campaign}}", "budget": {{budget}}, "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 30 } ] } ]
            """);
        var (small, large) = (Programs.Version(), Programs.Version());
        await Programs.PublishAsync(server, Program(small, 100));
        await Programs.PublishAsync(server, Program(large, 1_000));
        var raised = Local(Today().AddDays(-2));
        await Ledger.MoveActivationsBackAsync(server.LedgerConnectionString, raised.AddDays(-10));
        await Ledger.MoveActivationAsync(server.LedgerConnectionString, large, raised);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await HotState.Database.KeyDeleteAsync([$"lc:{{c:{campaign}}}:r", $"lc:{{c:{campaign}}}:t"]);

        var late = await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: raised.AddDays(-3)));

        Assert.Equal(small, late.ProgramVersion);
        Assert.Equal(30, late.Breakdown.Single(b => b.RuleId == campaign + "-bonus").Points);
        var status = (await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns.Single();
        Assert.Equal(1_000, status.Budget);
        Assert.Equal(970, status.RemainingBudget);
    }

    [Fact]
    public async Task An_unknown_members_late_purchase_is_enrolled_by_the_active_version_and_scored_by_the_earlier_one()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var (closed, open) = (Programs.Version(), Programs.Version());
        await Programs.PublishAsync(server, Programs.Document(closed, """ "rules": [ { "id": "old-bonus", "type": "bonus", "points": 7 } ] """));
        await Programs.PublishAsync(server, Programs.Document(open, """ "autoEnroll": true """));
        var opened = Local(Today().AddDays(-1));
        await Ledger.MoveActivationsBackAsync(server.LedgerConnectionString, opened.AddDays(-10));
        await Ledger.MoveActivationAsync(server.LedgerConnectionString, open, opened);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);

        var late = await server.Scoring.ScoreAsync(Requests.Score(Ids.Member(), occurredAt: opened.AddDays(-2)));
        // Closed again from now on: a purchase made while enrolment was open no longer enrols anyone.
        await Programs.PublishAsync(server, Programs.Document(Programs.Version()));
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Scoring.ScoreAsync(Requests.Score(Ids.Member(), occurredAt: opened.AddHours(1))).ResponseAsync);

        Assert.Equal(closed, late.ProgramVersion);
        Assert.Equal(45 + 7, late.PointsEarned);
    }

    /// <summary>Today's date on the programs' clock (Europe/Paris).</summary>
    private static DateTime Today() => TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Paris).Date;

    /// <summary>The instant of a local date and time in Paris.</summary>
    private static DateTimeOffset Local(DateTime local) => new(local, Paris.GetUtcOffset(local));

    private static string LocalText(DateTime local) => local.ToString("yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);

    private static string DayKey(DateTime local) => local.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    // The engine's period counters; the member's lots (k.l*) are the balance's, not the day's.
    private static bool IsCounter(string field) => field.StartsWith("k.", StringComparison.Ordinal) && !field.StartsWith("k.l", StringComparison.Ordinal);
}
