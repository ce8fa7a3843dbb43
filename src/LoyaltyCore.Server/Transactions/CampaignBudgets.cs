using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
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
    private static readonly string InitScript = HotStateStore.ReadScript("budget_init.lua");
    private static readonly string DrawScript = HotStateStore.ReadScript("budget_draw.lua");
    private readonly string _prefix = options.Value.KeyPrefix;

    /// <summary>Creates the budgets of a newly activated program, or resizes them when the new version changed them.</summary>
    public async Task InitializeAsync(LoyaltyProgram program, CancellationToken cancellationToken)
    {
        foreach (var campaign in program.Campaigns)
        {
            await InitializeAsync(campaign, cancellationToken);
        }
    }

    /// <returns>The points granted: all wanted, or what was left.</returns>
    public async Task<long> DrawAsync(Campaign campaign, long points)
    {
        for (var attempt = 0; ; attempt++)
        {
            var reply = (RedisResult[])(await redis.Database.ScriptEvaluateAsync(DrawScript, [Remaining(campaign.Id)], [points]))!;
            var granted = (long)reply[0];
            if (granted >= 0 || attempt > 0)
            {
                metrics.CampaignBudgetRemaining.WithLabels(campaign.Id).Set(Math.Max(0, (long)reply[1]));
                return Math.Max(0, granted);
            }

            // Redis lost the budget (restart, flush): set it up again from what the ledger says was drawn.
            await InitializeAsync(campaign, CancellationToken.None);
        }
    }

    private async Task InitializeAsync(Campaign campaign, CancellationToken cancellationToken)
    {
        if (campaign.Budget is not { } budget)
        {
            return;
        }

        var drawn = await ledger.CampaignDrawnAsync(campaign.Id, cancellationToken);
        var remaining = (long)await redis.Database.ScriptEvaluateAsync(InitScript, [Remaining(campaign.Id), Total(campaign.Id)], [budget, drawn]);
        metrics.CampaignBudgetRemaining.WithLabels(campaign.Id).Set(remaining);
    }

    public async Task ReturnAsync(string campaignId, long points)
    {
        if (points > 0)
        {
            var remaining = await redis.Database.StringIncrementAsync(Remaining(campaignId), points);
            metrics.CampaignBudgetRemaining.WithLabels(campaignId).Set(remaining);
        }
    }

    /// <summary>What the campaign may still award (its budget set up again first if Redis lost it); null when unlimited.</summary>
    public async Task<long?> RemainingAsync(Campaign campaign)
    {
        if (campaign.Budget is null)
        {
            return null;
        }

        var value = await redis.Database.StringGetAsync(Remaining(campaign.Id));
        if (value.IsNull)
        {
            await InitializeAsync(campaign, CancellationToken.None);
            value = await redis.Database.StringGetAsync(Remaining(campaign.Id));
        }

        return (long)value;
    }

    private RedisKey Remaining(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:r";

    private RedisKey Total(string campaignId) => $"{_prefix}:{{c:{campaignId}}}:t";
}
