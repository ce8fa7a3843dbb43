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

    private RedisKey Remaining(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:r";

    private RedisKey Total(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:t";
}
