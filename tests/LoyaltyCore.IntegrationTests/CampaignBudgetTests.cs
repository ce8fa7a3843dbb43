using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class CampaignBudgetTests
{
    [Fact]
    public async Task A_budget_hammered_by_concurrent_purchases_ends_at_exactly_its_budget()
    {
        const long budget = 1_000;
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var campaign = "promo-" + Guid.NewGuid().ToString("N")[..8];
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), $$"""
            "campaigns": [ { "id": "{{campaign}}", "budget": {{budget}},
              "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 7 } ] } ]
            """));
        var members = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));

        var responses = await Task.WhenAll(Enumerable.Range(0, 400).Select(i =>
            server.Scoring.ScoreAsync(Requests.Score(members[i % members.Length])).ResponseAsync));

        var awarded = responses.SelectMany(r => r.Breakdown).Where(b => b.RuleId == campaign + "-bonus").Sum(b => b.Points);
        Assert.Equal(budget, awarded);
        Assert.All(responses, r => Assert.Equal(45 + r.Breakdown.Where(b => b.RuleId != "base-earn").Sum(b => b.Points), r.PointsEarned));
        Assert.Equal(budget, await Ledger.CampaignDrawnAsync(server.LedgerConnectionString, campaign));
        var status = (await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns.Single();
        Assert.Equal(budget, status.Budget);
        Assert.Equal(0, status.RemainingBudget);
        Assert.Contains("loyalty_campaign_budget_remaining_points{campaign=\"" + campaign + "\"} 0", await server.ScrapeMetricsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Raising_a_budget_in_a_new_version_adds_the_difference()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var campaign = "promo-" + Guid.NewGuid().ToString("N")[..8];
        string Program(long budget) => Programs.Document(Programs.Version(), $$"""
            "campaigns": [ { "id": "{{campaign}}", "budget": {{budget}}, "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 30 } ] } ]
            """);
        await Programs.PublishAsync(server, Program(100));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        await Programs.PublishAsync(server, Program(200));

        var status = (await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns.Single();
        Assert.Equal(170, status.RemainingBudget);
    }

    [Fact]
    public async Task A_campaign_freed_by_another_budgets_shortfall_never_awards_points_it_did_not_draw()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var (first, second) = ("a-" + Guid.NewGuid().ToString("N")[..8], "b-" + Guid.NewGuid().ToString("N")[..8]);
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), $$"""
            "earn": { "points": 0, "perMinor": 100 },
            "caps": { "perTransaction": 10 },
            "campaigns": [
              { "id": "{{first}}", "budget": 25, "rules": [ { "id": "{{first}}-bonus", "type": "bonus", "points": 10 } ] },
              { "id": "{{second}}", "budget": 1000, "rules": [ { "id": "{{second}}-bonus", "type": "bonus", "points": 10 } ] }
            ]
            """).Replace("\"earn\": { \"points\": 1, \"perMinor\": 100, \"rounding\": \"floor\" },", string.Empty, StringComparison.Ordinal));
        var members = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));

        var responses = await Task.WhenAll(Enumerable.Range(0, 60).Select(i => server.Scoring.ScoreAsync(Requests.Score(members[i % members.Length])).ResponseAsync));

        var campaigns = (await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns.ToDictionary(c => c.CampaignId);
        foreach (var id in new[] { first, second })
        {
            var awarded = responses.SelectMany(r => r.Breakdown).Where(b => b.RuleId == id + "-bonus").Sum(b => b.Points);
            Assert.Equal(awarded, campaigns[id].Budget - campaigns[id].RemainingBudget);
            Assert.Equal(awarded, await Ledger.CampaignDrawnAsync(server.LedgerConnectionString, id));
        }

        Assert.Equal(25, responses.SelectMany(r => r.Breakdown).Where(b => b.RuleId == first + "-bonus").Sum(b => b.Points));
    }

    [Fact]
    public async Task A_budget_that_redis_lost_is_set_up_again_from_the_ledger()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var campaign = "promo-" + Guid.NewGuid().ToString("N")[..8];
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), $$"""
            "campaigns": [ { "id": "{{campaign}}", "budget": 100, "rules": [ { "id": "{{campaign}}-bonus", "type": "bonus", "points": 30 } ] } ]
            """));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        await HotState.Database.KeyDeleteAsync([$"lc:{{c:{campaign}}}:r", $"lc:{{c:{campaign}}}:t"]);
        var after = await server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Contains(after.Breakdown, b => b.RuleId == campaign + "-bonus" && b.Points == 30);
        Assert.Equal(40, (await Programs.Admin(server).ListCampaignsAsync(new ListCampaignsRequest())).Campaigns.Single().RemainingBudget);
    }
}
