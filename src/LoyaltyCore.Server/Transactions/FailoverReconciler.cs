using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Redis replicates asynchronously: a replica promoted after its primary died may lack the member changes the primary
/// acknowledged last, though their ledger rows are committed. The ledger refuses any change applied on such a state
/// when its member sequence is taken (<see cref="LedgerConflictException.StaleSequence"/>); this sweep also brings back
/// the members nobody touches. Every few seconds it compares the
/// primaries with the last look; on a newly promoted one it reads each member's sequence and rebuilds, from the
/// ledger, every member the ledger is ahead of, and lowers each of its budgets to the total less the ledger's draws.
/// A pass that fails is done again at the next sweep, until one completes.
/// </summary>
internal sealed partial class FailoverReconciler(
    RedisConnection redis,
    HotStateStore hotState,
    LedgerStore ledger,
    MemberDirectory members,
    BudgetStore budgets,
    ProgramProvider programs,
    LoyaltyMetrics metrics,
    TimeProvider time,
    ILogger<FailoverReconciler> logger) : PeriodicRun(time, logger)
{
    private HashSet<string>? _primaries;

    // Promoted primaries not yet reconciled in full: an error leaves one here for the next sweep.
    private readonly HashSet<string> _unreconciled = new(StringComparer.Ordinal);

    protected override bool Enabled => !redis.IsEmbedded;

    protected override TimeSpan Interval => TimeSpan.FromSeconds(2);

    protected override string Name => "Failover reconciliation";

    protected override async Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var multiplexer = redis.Multiplexer;
        if (!multiplexer.GetServers().Any(server => server.ServerType == StackExchange.Redis.ServerType.Cluster))
        {
            // A single node has no replica to promote.
            return;
        }

        if (multiplexer.GetServers().Any(server => !server.IsConnected))
        {
            // A node is unreachable: a failover may be under way; look at the topology now rather than at the next
            // redirected call.
            await multiplexer.ConfigureAsync();
        }

        var primaries = hotState.Primaries();
        var known = primaries.Select(server => server.EndPoint.ToString()!).ToHashSet(StringComparer.Ordinal);
        var previous = _primaries;
        _primaries = known;
        if (previous is not null)
        {
            foreach (var endpoint in known.Where(endpoint => !previous.Contains(endpoint)))
            {
                LogPromoted(logger, endpoint);
                _unreconciled.Add(endpoint);
            }
        }

        // One that is no longer a primary has nothing to reconcile (its successor is new, and is).
        _unreconciled.IntersectWith(known);
        foreach (var promoted in primaries.Where(server => _unreconciled.Contains(server.EndPoint.ToString()!)))
        {
            var endpoint = promoted.EndPoint.ToString()!;
            try
            {
                await ReconcileAsync(promoted, endpoint, cancellationToken);
                _unreconciled.Remove(endpoint);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                // Done again from the start at the next tick: a rebuild and a cap are both safe to repeat.
                LogReconcileFailed(logger, ex, endpoint);
            }
        }
    }

    private async Task ReconcileAsync(StackExchange.Redis.IServer promoted, string endpoint, CancellationToken cancellationToken)
    {
        var rebuilt = 0;
        await foreach (var page in hotState.MemberSequencesOnAsync(promoted).WithCancellation(cancellationToken))
        {
            var committed = await ledger.LastSequencesAsync([.. page.Select(m => m.MemberId)], cancellationToken);
            foreach (var (memberId, sequence) in page)
            {
                if (committed.TryGetValue(memberId, out var last) && last > sequence)
                {
                    await members.RebuildAsync(memberId, programs.Current, cancellationToken);
                    rebuilt++;
                }
            }
        }

        metrics.FailoverReconciled.Inc(rebuilt);
        LogReconciled(logger, endpoint, rebuilt);

        // A budget's lost draws would be given again: what remains may not exceed the total less the ledger's draws.
        await foreach (var (campaignId, total) in budgets.BudgetsOnAsync(promoted).WithCancellation(cancellationToken))
        {
            var drawn = await ledger.CampaignDrawnAsync(campaignId, cancellationToken);
            if (await budgets.CapAsync(campaignId, total - drawn) is > 0 and var excess)
            {
                LogBudgetCapped(logger, campaignId, excess);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis primary {Endpoint}: checking its members against the ledger failed; tried again at the next sweep")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis primary {Endpoint} is new (a failover): checking its members against the ledger")]
    private static partial void LogPromoted(ILogger logger, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Budget {Budget}: {Excess} points the failover had given back were taken off again")]
    private static partial void LogBudgetCapped(ILogger logger, string budget, long excess);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis primary {Endpoint}: {Rebuilt} members were behind the ledger and were rebuilt from it")]
    private static partial void LogReconciled(ILogger logger, string endpoint, int rebuilt);
}
