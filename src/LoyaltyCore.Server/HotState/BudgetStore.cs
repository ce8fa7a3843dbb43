using LoyaltyCore.Server.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>
/// Campaign budgets in Redis, one key per campaign under its own hash tag (a budget is shared by all members, so it
/// lives apart from any member's slot).
/// </summary>
internal sealed class BudgetStore(RedisConnection redis, IOptions<HotStateOptions> options)
{
    private static readonly string InitScript = HotStateStore.ReadScript("budget_init.lua");
    private static readonly string DrawScript = HotStateStore.ReadScript("budget_draw.lua");
    private static readonly string ReturnScript = HotStateStore.ReadScript("budget_return.lua");
    private static readonly string CapScript = HotStateStore.ReadScript("budget_cap.lua");
    private readonly string _prefix = options.Value.KeyPrefix;

    /// <summary>Sets the budget up (or resizes it) given the points the ledger says were drawn.</summary>
    /// <returns>What remains.</returns>
    public async Task<long> InitializeAsync(string campaignId, long budget, long drawn) =>
        (long)await redis.Database.ScriptEvaluateAsync(InitScript, [Remaining(campaignId), Total(campaignId)], [budget, drawn]);

    /// <returns>The points granted (all wanted, or what was left) and what remains; null when Redis holds no budget.</returns>
    public async Task<(long Granted, long Remaining)?> DrawAsync(string campaignId, long points)
    {
        var reply = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(DrawScript, [Remaining(campaignId)], [points]))!;
        var granted = (long)reply[0];
        return granted < 0 ? null : (granted, (long)reply[1]);
    }

    /// <returns>What remains after the points went back; null when Redis holds no budget (the ledger's draws count them).</returns>
    public async Task<long?> GiveBackAsync(string campaignId, long points)
    {
        var remaining = (long)await redis.Database.ScriptEvaluateAsync(ReturnScript, [Remaining(campaignId)], [points]);
        return remaining < 0 ? null : remaining;
    }

    /// <returns>What remains; null when Redis holds no budget.</returns>
    public async Task<long?> RemainingAsync(string campaignId)
    {
        var value = await redis.Database.StringGetAsync(Remaining(campaignId));
        return value.IsNull ? null : (long)value;
    }

    /// <summary>Lowers what remains to at most <paramref name="ceiling"/>; returns the points taken off (0: none).</summary>
    public async Task<long> CapAsync(string campaignId, long ceiling) =>
        Math.Max(0, (long)await redis.Database.ScriptEvaluateAsync(CapScript, [Remaining(campaignId)], [ceiling]));

    /// <summary>The budgets a primary holds, with their configured totals.</summary>
    public async IAsyncEnumerable<(string CampaignId, long Total)> BudgetsOnAsync(IServer server)
    {
        var start = _prefix.Length + 4;
        await foreach (var key in server.KeysAsync(pattern: $"{_prefix}:{{c:*}}:t", pageSize: 500))
        {
            if (await redis.Database.StringGetAsync(key) is { IsNull: false } total)
            {
                yield return (((string)key!)[start..^3], (long)total);
            }
        }
    }

    private RedisKey Remaining(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:r";

    private RedisKey Total(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:t";
}
