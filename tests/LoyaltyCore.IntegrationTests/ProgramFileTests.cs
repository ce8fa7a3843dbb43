using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class ProgramFileTests
{
    [Fact]
    public async Task Saving_a_new_version_of_the_program_file_activates_it_and_an_invalid_save_changes_nothing()
    {
        var path = Path.Combine(Path.GetTempPath(), $"program-{Guid.NewGuid():N}.json");
        var first = Programs.Version();
        await File.WriteAllTextAsync(path, Programs.Document(first));
        try
        {
            await using var server = await ServerInstance.StartAsync(s => s["Program:Path"] = path, ownLedger: true);
            var admin = Programs.Admin(server);
            Assert.Equal(first, (await admin.GetActiveProgramAsync(new GetActiveProgramRequest())).Version);

            var second = Programs.Version();
            await File.WriteAllTextAsync(path, Programs.Document(second, """ "rules": [ { "id": "saved", "type": "bonus", "points": 1 } ] """));
            await WaitUntilAsync(async () => (await admin.GetActiveProgramAsync(new GetActiveProgramRequest())).Version == second);

            await File.WriteAllTextAsync(path, Programs.Document(Programs.Version(), """ "rules": [ { "id": "broken", "type": "bonus" } ] """));
            await Task.Delay(1500);
            Assert.Equal(second, (await admin.GetActiveProgramAsync(new GetActiveProgramRequest())).Version);
            var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
            Assert.Contains((await server.Scoring.ScoreAsync(Requests.Score(memberId))).Breakdown, b => b.RuleId == "saved");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail("the condition never held");
    }
}
