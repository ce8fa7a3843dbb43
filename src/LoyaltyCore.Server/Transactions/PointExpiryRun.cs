using Grpc.Core;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Transactions;

/// <summary>What one expiry run did.</summary>
/// <param name="Members">Members looked at (a member marked on several days of the range, once for each).</param>
/// <param name="Expired">Members whose points this run expired (not those another server or an earlier run had).</param>
/// <param name="Points">Points this run expired.</param>
/// <param name="Failed">Members it could not process (the day's run stays unfinished; the next run retries them).</param>
/// <param name="AlreadyFinished">The day's run had finished before: nothing was looked at.</param>
internal readonly record struct ExpiryRunSummary(int AsOf, int Members, int Expired, long Points, int Failed, bool AlreadyFinished);

/// <summary>
/// Expires the lots due on a day. The ledger says which members to look at: those with a row marking a day on which
/// points of theirs fall due (<c>lot_expires_on</c>, indexed), from a few days before the last finished run's day
/// (<see cref="ExpiryOptions.LookbackDays"/>) up to the run's day. Each member is one transaction with id
/// <c>expiry:YYYY-MM-DD</c>, the same request from every server and every rerun, so lots expire once whatever ran or
/// crashed; the day's progress (the last member done) is kept in the ledger, so a run stopped half way resumes there.
/// </summary>
internal sealed partial class PointExpiryRun(
    LedgerStore ledger,
    TransactionPipeline processor,
    ProgramProvider programs,
    LoyaltyMetrics metrics,
    TimeProvider time,
    IOptions<ExpiryOptions> options,
    ILogger<PointExpiryRun> logger) : PeriodicRun(time, logger)
{
    private const int PageSize = 500;

    /// <summary>Expires the lots due on <paramref name="asOf"/> (yyyymmdd), reporting after each page of members.</summary>
    public async Task<ExpiryRunSummary> RunAsync(int asOf, Action<ExpiryRunSummary>? progress, CancellationToken cancellationToken)
    {
        var (run, lastFinished) = await ledger.StartExpiryRunAsync(asOf, cancellationToken);
        var summary = new ExpiryRunSummary(asOf, 0, 0, 0, 0, run.Finished);
        if (run.Finished)
        {
            return summary;
        }

        var from = lastFinished == 0 ? 0 : ExpiryPolicy.DayKey(ExpiryPolicy.Day(lastFinished).AddDays(-options.Value.LookbackDays));
        // Day by day, each day's members in order: every page reads one key range of the lot-expiry index.
        var (day, after) = run.AfterDay > from ? ((int?)run.AfterDay, run.AfterMember) : (await ledger.NextLotDayAsync(from, asOf, cancellationToken), string.Empty);
        var program = programs.Current;
        string? done = null;
        while (day is { } current)
        {
            var page = await ledger.LotsDueMemberIdsAsync(current, after, PageSize, cancellationToken);
            foreach (var memberId in page)
            {
                var expired = await ExpireAsync(memberId, asOf, program, cancellationToken);
                summary = summary with
                {
                    Members = summary.Members + 1,
                    Expired = summary.Expired + (expired > 0 ? 1 : 0),
                    Points = summary.Points + Math.Max(0, expired ?? 0),
                    Failed = summary.Failed + (expired is null ? 1 : 0),
                };

                // The mark moves only over members done: a failed one is looked at again by the day's next run.
                done = summary.Failed == 0 ? memberId : done;
            }

            if (done is not null)
            {
                await ledger.AdvanceExpiryRunAsync(asOf, current, done, cancellationToken);
                done = null;
            }

            progress?.Invoke(summary);
            if (page.Count == PageSize)
            {
                after = page[^1];
                continue;
            }

            day = await ledger.NextLotDayAsync(current, asOf, cancellationToken);
            after = string.Empty;
        }

        if (summary.Failed == 0)
        {
            await ledger.FinishExpiryRunAsync(asOf, cancellationToken);
        }

        if (summary.Points > 0)
        {
            LogExpired(logger, summary.Points, summary.Expired, asOf);
        }

        return summary;
    }

    /// <returns>Points this call expired (0 when none were due or another run had them), null when it failed.</returns>
    private async Task<long?> ExpireAsync(string memberId, int asOf, Engine.Programs.LoyaltyProgram program, CancellationToken cancellationToken)
    {
        try
        {
            var result = await processor.ProcessAsync(ExpiryIntent.For(memberId, asOf, program, metrics), cancellationToken);
            return result.Replayed ? 0 : result.PointsExpired;
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.NotFound or StatusCode.FailedPrecondition)
        {
            return 0;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogMemberFailed(logger, ex, memberId, asOf);
            return null;
        }
    }

    /// <summary>Today on the program's clock: lots expiring today or before are due.</summary>
    public int Today(DateTimeOffset now) => ExpiryPolicy.DayKey(DateOnly.FromDateTime(programs.Current.Calendar.LocalTime(now)));

    protected override bool Enabled => options.Value.RunEnabled;

    protected override TimeSpan Interval => options.Value.RunInterval;

    protected override string Name => "Points expiry run";

    protected override Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken) => RunAsync(Today(now), null, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Points expiry run of {AsOf} expired {Points} points of {Members} members")]
    private static partial void LogExpired(ILogger logger, long points, int members, int asOf);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Expiring the points of {MemberId} (run of {AsOf}) failed; the day's next run retries them")]
    private static partial void LogMemberFailed(ILogger logger, Exception exception, string memberId, int asOf);
}
