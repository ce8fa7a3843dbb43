using BenchmarkDotNet.Attributes;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Benchmarks;

/// <summary>
/// What every transaction adds to the scoring path for lots and rewards: the lot changes of a purchase (the common
/// case, nothing owed) and of a redemption spread over old lots, the next expiry after a purchase, and the nudge over a
/// ten-reward catalogue. The member holds a year of monthly lots (12) among 20 other counters, as a regular does.
/// </summary>
[MemoryDiagnoser]
public class LotBenchmarks
{
    private static readonly DateOnly Today = new(2026, 11, 28);
    private readonly ExpiryPolicy _policy = ExpiryPolicy.AfterMonths(24, extendOnActivity: false);
    private MemberState _member = null!;
    private LotChanges _purchase = null!;
    private RewardCatalogue _catalogue = null!;

    [GlobalSetup]
    public void Setup()
    {
        var counters = new Dictionary<string, long>(StringComparer.Ordinal);
        long balance = 0;
        for (var month = 1; month <= 12; month++)
        {
            var earned = new DateOnly(2025, month, 15);
            counters[PointLots.Key(ExpiryPolicy.DayKey(earned), _policy.ExpiresOn(earned), extends: false)] = 100 + month;
            balance += 100 + month;
        }

        for (var i = 0; i < 20; i++)
        {
            counters[$"k.d:202611{i + 1:D2}"] = i;
        }

        _member = new MemberState { Balance = balance, Tier = "silver", Counters = counters };
        _purchase = PointLots.Change(_member, 145, Today, _policy, activity: true);
        _catalogue = new RewardCatalogue(
            [.. Enumerable.Range(1, 10).Select(i => new Reward($"r{i}", $"Reward {i}", i * 500L, null, null, null, new HashSet<string>(), new HashSet<string>(), null))],
            NudgePolicy.Default);
    }

    [Benchmark(Baseline = true, Description = "Lots of a purchase")]
    public LotChanges Purchase() => PointLots.Change(_member, 145, Today, _policy, activity: true);

    [Benchmark(Description = "Lots of a redemption over old lots")]
    public LotChanges Redemption() => PointLots.Change(_member, -450, Today, _policy, activity: false);

    [Benchmark(Description = "Next expiry after a purchase")]
    public (long, int)? NextExpiry() => PointLots.NextExpiry(_member, _purchase);

    [Benchmark(Description = "Nudge, 10 rewards")]
    public (Reward, long)? Nudge() => _catalogue.NudgeFor(_member.WithBalance(_member.Balance + 145), "silver", DateTimeOffset.UnixEpoch);
}
