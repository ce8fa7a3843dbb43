using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class PublishUnderLoadTests
{
    [Fact]
    public async Task Publishing_on_another_server_during_load_leaves_no_score_evaluated_on_a_mix_of_versions()
    {
        await using var scorer = await ServerInstance.StartAsync(ownLedger: true);
        await using var publisher = await ServerInstance.StartAsync(s => s["Ledger:ConnectionString"] = scorer.LedgerConnectionString);
        var (first, second) = (Programs.Version(), Programs.Version());
        string Program(string version, string rule) => Programs.Document(version, $$"""
            "rules": [ { "id": "{{rule}}", "type": "bonus", "points": 3 }, { "id": "{{rule}}-x2", "type": "multiplier", "factor": 2 } ]
            """);
        await Programs.PublishAsync(publisher, Program(first, "old"));
        await WaitForVersionAsync(scorer, first);
        var members = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => IdempotencyTests.EnrolledMemberAsync(scorer)));

        using var stop = new CancellationTokenSource();
        var responses = new System.Collections.Concurrent.ConcurrentBag<ScoreResponse>();
        var workers = members.Select(async memberId =>
        {
            while (!stop.IsCancellationRequested)
            {
                responses.Add(await scorer.Scoring.ScoreAsync(Requests.Score(memberId)));
            }
        }).ToArray();
        await Task.Delay(300);
        await Programs.PublishAsync(publisher, Program(second, "new"));
        await WaitForVersionAsync(scorer, second);
        await Task.Delay(300);
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Contains(responses, r => r.ProgramVersion == first);
        Assert.Contains(responses, r => r.ProgramVersion == second);
        foreach (var response in responses)
        {
            var rule = response.ProgramVersion == first ? "old" : "new";
            // Members move up a tier during the run; the tier line is not the program's to vary.
            Assert.Equal(["base-earn", rule, rule + "-x2"], response.Breakdown.Select(b => b.RuleId).Where(id => !id.StartsWith("tier:", StringComparison.Ordinal)));
        }

        var rows = await Ledger.EntriesAsync(scorer.LedgerConnectionString, members);
        Assert.Equal(responses.Count, rows.Count);
        Assert.All(rows, row => Assert.Equal(
            row.Version == first ? "base-earn,old,old-x2" : "base-earn,new,new-x2",
            string.Join(',', row.Rules.Split(',').Where(id => !id.StartsWith("tier:", StringComparison.Ordinal)))));
    }

    private static async Task WaitForVersionAsync(ServerInstance server, string version)
    {
        var admin = Programs.Admin(server);
        for (var i = 0; i < 200; i++)
        {
            if ((await admin.GetActiveProgramAsync(new GetActiveProgramRequest())).Version == version)
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{version} never became active");
    }
}
