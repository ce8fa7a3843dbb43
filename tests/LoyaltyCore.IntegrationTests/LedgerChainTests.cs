using Google.Protobuf;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// The ledger writer against a real PostgreSQL, entries written as the hot state hands them over: a change is recorded
/// only after the change it names, under the number before its own.
/// </summary>
public sealed class LedgerChainTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    private LedgerWriter Writer => _server.Get<LedgerWriter>();

    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(ownLedger: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_change_following_one_the_ledger_refuses_is_refused_too_even_in_the_same_batch()
    {
        var memberId = Ids.Member();
        await Writer.AppendAsync(Entry(memberId, 1, change: 11, previous: 0), mayExist: false);
        // Committed under number 2 by a hot state the failover then lost.
        await Writer.AppendAsync(Entry(memberId, 2, change: 55, previous: 11), mayExist: false);

        // The promoted replica's: number 2 again (it had only change 11), then a change on top of it.
        var stale = Entry(memberId, 2, change: 22, previous: 11);
        var onTop = Entry(memberId, 3, change: 33, previous: 22);
        var staleCommit = Writer.AppendAsync(stale, mayExist: true);
        var onTopCommit = Writer.AppendAsync(onTop, mayExist: true);

        Assert.True((await Assert.ThrowsAsync<LedgerConflictException>(() => staleCommit)).StaleSequence);
        Assert.True((await Assert.ThrowsAsync<LedgerConflictException>(() => onTopCommit)).StaleSequence);
        Assert.Equal(0, await Ledger.CountAsync(memberId, stale.TransactionId, _server.LedgerConnectionString));
        Assert.Equal(0, await Ledger.CountAsync(memberId, onTop.TransactionId, _server.LedgerConnectionString));
        Assert.Equal(2, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_change_waits_for_the_change_it_follows_and_is_recorded_after_it()
    {
        var memberId = Ids.Member();
        await Writer.AppendAsync(Entry(memberId, 1, change: 11, previous: 0), mayExist: false);
        var second = Entry(memberId, 2, change: 22, previous: 11);
        var third = Entry(memberId, 3, change: 33, previous: 22);

        // The later change reaches the writer first, as when two requests race to it.
        var thirdCommit = Writer.AppendAsync(third, mayExist: false);
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        Assert.False(thirdCommit.IsCompleted);
        Assert.Equal(0, await Ledger.CountAsync(memberId, third.TransactionId, _server.LedgerConnectionString));

        await Writer.AppendAsync(second, mayExist: false);
        await thirdCommit;
        Assert.Equal(3, await Ledger.CountAsync(memberId, database: _server.LedgerConnectionString));
    }

    [Fact]
    public async Task A_change_whose_predecessor_never_comes_is_answered_unavailable_after_the_wait()
    {
        await using var server = await ServerInstance.StartAsync(s =>
        {
            s["Ledger:ConnectionString"] = _server.LedgerConnectionString;
            s["Ledger:PredecessorWait"] = "00:00:00.500";
        });
        var memberId = Ids.Member();
        await server.Get<LedgerWriter>().AppendAsync(Entry(memberId, 1, change: 11, previous: 0), mayExist: false);

        var orphan = Entry(memberId, 3, change: 33, previous: 22);
        var started = DateTime.UtcNow;
        await Assert.ThrowsAsync<LedgerUnavailableException>(() => server.Get<LedgerWriter>().AppendAsync(orphan, mayExist: false));

        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        Assert.Equal(0, await Ledger.CountAsync(memberId, orphan.TransactionId, _server.LedgerConnectionString));
    }

    private static LedgerEntry Entry(string memberId, long sequence, long change, long previous) => new()
    {
        TransactionId = Ids.Transaction(),
        MemberId = memberId,
        Kind = EntryKind.Adjustment,
        Points = 10,
        StoreId = "store-042",
        OccurredAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        RecordedAtUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        ProgramVersion = "test",
        TierAfter = "member",
        BalanceAfter = 10 * sequence,
        Fingerprint = ByteString.CopyFrom(Guid.NewGuid().ToByteArray()),
        Response = ByteString.Empty,
        MemberSequence = sequence,
        ChangeId = change,
        PreviousChangeId = previous,
    };
}
