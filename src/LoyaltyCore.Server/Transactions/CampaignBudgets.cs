using System.Collections.Concurrent;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rewards;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using StackExchange.Redis;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Budgets shared by all members: campaign points, and the stock of rewards (in units, under
/// <see cref="Reward.StockId"/>). They are drawn in Redis before the member's state is changed and given back if that
/// change does not happen, so concurrent transactions can never draw more than the budget; a crash between the two can
/// only leave some unspent. Whenever Redis lost a budget, it is set up again from what the ledger says was drawn.
/// </summary>
/// <remarks>
/// A budget is one amount shared by every version: a purchase dated back and scored by an earlier version draws from
/// what is left now, and never resizes it. Only the activation of a version sizes budgets (<see cref="InitializeAsync(LoyaltyProgram, CancellationToken)"/>).
/// </remarks>
internal sealed partial class CampaignBudgets(BudgetStore store, LedgerStore ledger, LoyaltyMetrics metrics, ILogger<CampaignBudgets> logger)
{
    // Budgets an activation could not size because Redis was unreachable: sized at their first draw instead.
    private readonly ConcurrentDictionary<string, long> _unsized = new(StringComparer.Ordinal);

    // The size of each budget in the version activated last. A budget Redis lost is set up again at this amount
    // whichever version's transaction finds it missing: an earlier version's amount would resize it for everyone.
    private volatile Dictionary<string, long> _activeBudgets = new(StringComparer.Ordinal);

    /// <summary>Creates the budgets of a newly activated program, or resizes them when the new version changed them.</summary>
    public async Task InitializeAsync(LoyaltyProgram program, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(program);
        var budgets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var campaign in program.Campaigns)
        {
            if (campaign.Budget is { } budget)
            {
                budgets[campaign.Id] = budget;
            }
        }

        foreach (var reward in program.Rewards.Rewards)
        {
            if (reward.Stock is { } stock)
            {
                budgets[reward.StockId] = stock;
            }
        }

        _activeBudgets = budgets;
        foreach (var (budgetId, total) in budgets)
        {
            try
            {
                await InitializeAsync(budgetId, total, cancellationToken);
                _unsized.TryRemove(budgetId, out _);
            }
            catch (RedisException ex)
            {
                // The version still activates (a server starting while Redis is down serves once Redis is back).
                _unsized[budgetId] = total;
                LogUnsized(logger, ex, budgetId);
            }
        }
    }

    /// <summary>Draws from the budget <paramref name="budgetId"/>, whose total <paramref name="totals"/> gives.</summary>
    /// <returns>What was granted: all wanted, or what was left.</returns>
    public async Task<long> DrawAsync(Func<string, long?> totals, string budgetId, long points)
    {
        if (!_unsized.IsEmpty && _unsized.TryGetValue(budgetId, out var unsized))
        {
            await InitializeAsync(budgetId, unsized, CancellationToken.None);
            _unsized.TryRemove(budgetId, out _);
        }

        for (var attempt = 0; ; attempt++)
        {
            if (await store.DrawAsync(budgetId, points) is { } drawn)
            {
                Publish(budgetId, Math.Max(0, drawn.Remaining));
                return Math.Max(0, drawn.Granted);
            }

            if (attempt > 0 || totals(budgetId) is not { } total)
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
    public Task<long?> RemainingAsync(LoyaltyProgram program, string budgetId) => RemainingAsync(budgetId, program.BudgetTotal(budgetId));

    /// <summary>What a budget of that total may still give (set up first if Redis does not hold it); null for no total.</summary>
    public async Task<long?> RemainingAsync(string budgetId, long? totalIfAny)
    {
        if (totalIfAny is not { } total)
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

    /// <summary>Sets a budget up, or moves what remains by the change of its total (a partner's offer or credit edited).</summary>
    public Task ResizeAsync(string budgetId, long total, CancellationToken cancellationToken) => InitializeAsync(budgetId, total, cancellationToken);

    private void Publish(string budgetId, long remaining)
    {
        if (budgetId.StartsWith(Reward.StockPrefix, StringComparison.Ordinal))
        {
            metrics.RewardStockRemaining.WithLabels(budgetId[Reward.StockPrefix.Length..]).Set(remaining);
        }
        else if (!budgetId.Contains('/', StringComparison.Ordinal))
        {
            // A partner's budgets (offers, credit) hold a '/', which no campaign id can: the partner metrics count them.
            metrics.CampaignBudgetRemaining.WithLabels(budgetId).Set(remaining);
            if (_activeBudgets.TryGetValue(budgetId, out var total))
            {
                metrics.CampaignBudgetTotal.WithLabels(budgetId).Set(total);
            }
        }
    }

    /// <summary>
    /// Sets a budget up from the ledger's draws: at the active version's amount, or <paramref name="own"/> (the
    /// transaction's version's) when the active version no longer has it (a purchase dated back, scored by the version
    /// that had it).
    /// </summary>
    private async Task InitializeAsync(string budgetId, long own, CancellationToken cancellationToken)
    {
        var total = _activeBudgets.TryGetValue(budgetId, out var active) ? active : own;
        var drawn = await ledger.CampaignDrawnAsync(budgetId, cancellationToken);
        Publish(budgetId, await store.InitializeAsync(budgetId, total, drawn));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budget {BudgetId} could not be set up: Redis is unreachable; it is set up at its first draw")]
    private static partial void LogUnsized(ILogger logger, Exception exception, string budgetId);
}
