using System.Reflection;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>
/// Campaign budgets in Redis, one key per campaign (its own hash tag: a budget is shared by all members). Points are
/// drawn before the member's state is changed and given back if that change does not happen, so concurrent
/// purchases can never draw more than the budget; a crash between the two can only leave points unspent.
/// </summary>
internal sealed class CampaignBudgets(RedisConnection redis, LedgerStore ledger, IOptions<HotStateOptions> options, LoyaltyMetrics metrics)
{
    private static readonly string InitScript = Script("budget_init.lua");
    private static readonly string DrawScript = Script("budget_draw.lua");
    private readonly string _prefix = options.Value.KeyPrefix;

    /// <summary>Creates the budgets of a newly activated program, or resizes them when the new version changed them.</summary>
    public async Task InitializeAsync(LoyaltyProgram program, CancellationToken cancellationToken)
    {
        foreach (var campaign in program.Campaigns)
        {
            if (campaign.Budget is not { } budget)
            {
                continue;
            }

            var drawn = await ledger.CampaignDrawnAsync(campaign.Id, cancellationToken);
            var remaining = (long)await redis.Database.ScriptEvaluateAsync(InitScript, [Remaining(campaign.Id), Total(campaign.Id)], [budget, drawn]);
            metrics.CampaignBudgetRemaining.WithLabels(campaign.Id).Set(remaining);
        }
    }

    /// <returns>The points granted: all wanted, or what was left.</returns>
    public async Task<long> DrawAsync(string campaignId, long points)
    {
        var reply = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(DrawScript, [Remaining(campaignId)], [points]))!;
        metrics.CampaignBudgetRemaining.WithLabels(campaignId).Set((long)reply[1]);
        return (long)reply[0];
    }

    public async Task ReturnAsync(string campaignId, long points)
    {
        if (points > 0)
        {
            var remaining = await redis.Database.StringIncrementAsync(Remaining(campaignId), points);
            metrics.CampaignBudgetRemaining.WithLabels(campaignId).Set(remaining);
        }
    }

    public async Task<long?> RemainingAsync(string campaignId)
    {
        var value = await redis.Database.StringGetAsync(Remaining(campaignId));
        return value.IsNull ? null : (long)value;
    }

    private RedisKey Remaining(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:r";

    private RedisKey Total(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:t";

    private static string Script(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("HotState." + name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
