using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Budgets shared by all members: campaign points, and the stock of rewards (in units, under
/// <see cref="LoyaltyCore.Engine.Rewards.Reward.StockId"/>). They are drawn in Redis before the member's state is
/// changed and given back if that change does not happen, so concurrent transactions can never draw more than the
/// budget; a crash between the two can only leave some unspent. Whenever Redis lost a budget, it is set up again
/// from what the ledger says was drawn.
/// </summary>
internal sealed class CampaignBudgets(BudgetStore store, LedgerStore ledger, LoyaltyMetrics metrics)
{
    /// <summary>Creates the budgets of a newly activated program, or resizes them when the new version changed them.</summary>
    public async Task InitializeAsync(LoyaltyProgram program, CancellationToken cancellationToken)
    {
        foreach (var campaign in program.Campaigns)
        {
            if (campaign.Budget is { } budget)
            {
                await InitializeAsync(campaign.Id, budget, cancellationToken);
            }
        }

        foreach (var reward in program.Rewards.Rewards)
        {
            if (reward.Stock is { } stock)
            {
                await InitializeAsync(reward.StockId, stock, cancellationToken);
            }
        }
    }

    /// <summary>Draws from the budget <paramref name="budgetId"/> of the program.</summary>
    /// <returns>What was granted: all wanted, or what was left.</returns>
    public async Task<long> DrawAsync(LoyaltyProgram program, string budgetId, long points)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await store.DrawAsync(budgetId, points) is { } drawn)
            {
                Publish(budgetId, Math.Max(0, drawn.Remaining));
                return Math.Max(0, drawn.Granted);
            }

            if (attempt > 0 || program.BudgetTotal(budgetId) is not { } total)
            {
                return 0;
            }

            // Redis lost the budget (restart, flush): set it up again from what the ledger says was drawn.
            await InitializeAsync(budgetId, total, CancellationToken.None);
        }
    }

    public async Task ReturnAsync(string budgetId, long points)
    {
        // A budget Redis lost is left for its set-up from the ledger, which counts these points.
        if (points > 0 && await store.GiveBackAsync(budgetId, points) is { } remaining)
        {
            Publish(budgetId, remaining);
        }
    }

    /// <summary>What the budget may still give (set up again first if Redis lost it); null when the program has no such budget.</summary>
    public async Task<long?> RemainingAsync(LoyaltyProgram program, string budgetId)
    {
        if (program.BudgetTotal(budgetId) is not { } total)
        {
            return null;
        }

        if (await store.RemainingAsync(budgetId) is { } remaining)
        {
            return remaining;
        }

        await InitializeAsync(budgetId, total, CancellationToken.None);
        return await store.RemainingAsync(budgetId) ?? 0;
    }

    private void Publish(string budgetId, long remaining)
    {
        if (budgetId.StartsWith(Reward.StockPrefix, StringComparison.Ordinal))
        {
            metrics.RewardStockRemaining.WithLabels(budgetId[Reward.StockPrefix.Length..]).Set(remaining);
        }
        else
        {
            metrics.CampaignBudgetRemaining.WithLabels(budgetId).Set(remaining);
        }
    }

    private async Task InitializeAsync(string budgetId, long total, CancellationToken cancellationToken)
    {
        var drawn = await ledger.CampaignDrawnAsync(budgetId, cancellationToken);
        Publish(budgetId, await store.InitializeAsync(budgetId, total, drawn));
    }
}
