using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class AutoEnrolmentTests
{
    [Fact]
    public async Task A_program_with_auto_enrolment_enrols_an_unknown_member_on_first_purchase()
    {
        var sample = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "programs", "sample-program.json"));
        var path = Path.Combine(Path.GetTempPath(), $"program-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(path, sample.Replace("\"autoEnroll\": false", "\"autoEnroll\": true", StringComparison.Ordinal));
        try
        {
            await using var server = await ServerInstance.StartAsync(settings => settings["Program:Path"] = path, ownLedger: true);
            var memberId = Ids.Member();

            var response = await server.Scoring.ScoreAsync(Requests.Score(memberId));

            Assert.Equal(45, response.Balance);
            var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
            Assert.Equal(45, member.Balance);
            Assert.Equal(1, await Ledger.CountAsync(memberId, database: server.LedgerConnectionString));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
