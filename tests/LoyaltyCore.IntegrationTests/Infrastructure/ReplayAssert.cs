using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>Redis must always be rebuildable from the ledger: the proof each transaction test ends with.</summary>
internal static class ReplayAssert
{
    /// <summary>
    /// Forgets the member in Redis, rebuilds them from the ledger, and checks the state is what it was (but for the
    /// version and the load time, which every load writes afresh) and the balance is the sum of the ledger's points.
    /// </summary>
    public static async Task RedisIsTheLedgersReplayAsync(ServerInstance server, string memberId)
    {
        var before = await HotState.StateAsync(memberId);
        await HotState.ForgetMemberAsync(memberId);
        Assert.True(await server.Get<MemberDirectory>().RebuildAsync(memberId, server.Get<ProgramProvider>().Current, CancellationToken.None));
        Assert.Equal(WithoutLoadFields(before), WithoutLoadFields(await HotState.StateAsync(memberId)));
        Assert.Equal(await Ledger.SumPointsAsync(memberId, server.LedgerConnectionString), await HotState.BalanceAsync(memberId));
    }

    private static List<(string Field, string Value)> WithoutLoadFields(IEnumerable<(string Field, string Value)> state) =>
        [.. state.Where(f => f.Field is not ("v" or "h"))];
}
