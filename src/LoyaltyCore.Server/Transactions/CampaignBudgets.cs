using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Campaign budgets: points are drawn in Redis before the member's state is changed and given back if that change
/// does not happen, so concurrent purchases can never draw more than the budget; a crash between the two can only
/// leave points unspent. Whenever Redis lost a budget, it is set up again from what the ledger says was drawn.
/// </summary>
/// <remarks>
/// A budget is one amount shared by every version: a purchase dated back and scored by an earlier version draws from
/// what is left now, and never resizes it. Only the activation of a version sizes budgets (<see cref="InitializeAsync(LoyaltyProgram, CancellationToken)"/>).
/// </remarks>
internal sealed class CampaignBudgets(BudgetStore store, LedgerStore ledger, LoyaltyMetrics metrics)
{
    // The budget of each campaign in the version activated last. A budget Redis lost is set up again at this amount
    // whichever version's purchase finds it missing: an earlier version's amount would resize it for everyone.
    private volatile Dictionary<string, long> _activeBudgets = new(StringComparer.Ordinal);

    /// <summary>Creates the budgets of a newly activated program, or resizes them when the new version changed them.</summary>
    public async Task InitializeAsync(LoyaltyProgram program, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(program);
        _activeBudgets = program.Campaigns.Where(c => c.Budget is not null).ToDictionary(c => c.Id, c => c.Budget!.Value, StringComparer.Ordinal);
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
            if (await store.DrawAsync(campaign.Id, points) is { } drawn)
            {
                metrics.CampaignBudgetRemaining.WithLabels(campaign.Id).Set(Math.Max(0, drawn.Remaining));
                return Math.Max(0, drawn.Granted);
            }

            if (attempt > 0)
            {
                return 0;
            }

            // Redis lost the budget (restart, flush): set it up again from what the ledger says was drawn.
            await InitializeAsync(campaign, CancellationToken.None);
        }
    }

    public async Task ReturnAsync(string campaignId, long points)
    {
        // A budget Redis lost is left for its set-up from the ledger, which counts these points.
        if (points > 0 && await store.GiveBackAsync(campaignId, points) is { } remaining)
        {
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

        if (await store.RemainingAsync(campaign.Id) is { } remaining)
        {
            return remaining;
        }

        await InitializeAsync(campaign, CancellationToken.None);
        return await store.RemainingAsync(campaign.Id) ?? 0;
    }

    /// <summary>
    /// Sets a campaign's budget up from the ledger's draws: at the active version's amount, or the campaign's own when
    /// the active version no longer has it (a purchase dated back, scored by the version that had it).
    /// </summary>
    private async Task InitializeAsync(Campaign campaign, CancellationToken cancellationToken)
    {
        if (campaign.Budget is not { } own)
        {
            return;
        }

        var budget = _activeBudgets.TryGetValue(campaign.Id, out var active) ? active : own;
        var drawn = await ledger.CampaignDrawnAsync(campaign.Id, cancellationToken);
        metrics.CampaignBudgetRemaining.WithLabels(campaign.Id).Set(await store.InitializeAsync(campaign.Id, budget, drawn));
    }
}
