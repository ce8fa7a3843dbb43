using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The lines of read and predicted states a member's transactions are evaluated on.</summary>
public sealed class SnapshotCacheTests
{
    private const string Member = "m-1";

    [Fact]
    public void A_prediction_is_what_the_next_transaction_is_evaluated_on()
    {
        var cache = NewCache();
        cache.Set(Member, State("1", 10));
        var read = cache.Get(Member)!;

        cache.Predict(Member, read, State("2", 20));

        Assert.Equal("2", cache.Get(Member)!.Snapshot.Version);
        Assert.Same(read.Lineage, cache.Get(Member)!.Lineage);
    }

    [Fact]
    public void A_refuted_line_is_no_basis_for_anything_predicted_on_it_even_later()
    {
        var cache = NewCache();
        cache.Set(Member, State("1", 10));
        var read = cache.Get(Member)!;
        cache.Predict(Member, read, State("2", 20));
        var predicted = cache.Get(Member)!;

        cache.Refute(Member, read, null);

        Assert.Null(cache.Get(Member));
        // A transaction that took the prediction before the refutation predicts on a line already refuted.
        cache.Predict(Member, predicted, State("3", 30));
        Assert.Null(cache.Get(Member));
    }

    [Fact]
    public void A_refutation_keeps_the_state_redis_answered_with_as_a_new_line()
    {
        var cache = NewCache();
        cache.Set(Member, State("1", 10));
        var read = cache.Get(Member)!;
        cache.Predict(Member, read, State("2", 20));

        cache.Refute(Member, read, State("9", 90));

        var current = cache.Get(Member)!;
        Assert.Equal("9", current.Snapshot.Version);
        Assert.NotSame(read.Lineage, current.Lineage);
    }

    [Fact]
    public void A_late_answer_of_an_old_line_does_not_replace_a_newer_line()
    {
        var cache = NewCache();
        cache.Set(Member, State("1", 10));
        var old = cache.Get(Member)!;
        cache.Refute(Member, old, State("5", 50));
        var newer = cache.Get(Member)!;
        cache.Predict(Member, newer, State("6", 60));

        // Another transaction of the refuted line hears back now, with the state Redis had before the newer line moved.
        cache.Refute(Member, old, State("5", 50));
        cache.Observe(Member, State("5", 50));

        Assert.Equal("6", cache.Get(Member)!.Snapshot.Version);
    }

    [Fact]
    public void A_refuted_line_with_no_state_to_keep_leaves_the_member_unknown()
    {
        var cache = NewCache();
        cache.Set(Member, State("1", 10));
        var read = cache.Get(Member)!;

        cache.Refute(Member, read, null);
        cache.Observe(Member, State("4", 40));

        Assert.Equal("4", cache.Get(Member)!.Snapshot.Version);
    }

    [Fact]
    public void A_cache_of_no_capacity_keeps_nothing()
    {
        var cache = NewCache(capacity: 0);
        cache.Set(Member, State("1", 10));

        Assert.Null(cache.Get(Member));
    }

    private static SnapshotCache NewCache(int capacity = 100) =>
        new(Options.Create(new HotStateOptions { SnapshotCacheCapacity = capacity }));

    private static MemberSnapshot State(string version, long balance) =>
        new(version, new MemberState { Balance = balance });
}
