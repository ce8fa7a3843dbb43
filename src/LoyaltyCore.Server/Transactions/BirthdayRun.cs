using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Calendar;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Fires the program's <c>birthday</c> rules for every member whose birthday is today on the program's clock. Each
/// award is an event transaction with id <c>birthday:&lt;year&gt;</c>, so however many servers run it, however often,
/// and whatever crashed in between, a member is rewarded at most once a year: a rerun replays what was done.
/// </summary>
internal sealed partial class BirthdayRun(
    LedgerStore ledger,
    MemberDirectory members,
    TransactionPipeline processor,
    ProgramProvider programs,
    LoyaltyMetrics metrics,
    TimeProvider time,
    IOptions<EventOptions> options,
    ILogger<BirthdayRun> logger) : PeriodicRun(time, logger)
{
    protected override bool Enabled => options.Value.BirthdayRunEnabled;

    protected override TimeSpan Interval => options.Value.BirthdayRunInterval;

    protected override string Name => "Birthday run";

    protected override Task RunOnceAsync(DateTimeOffset now, CancellationToken cancellationToken) => RunAsync(now, cancellationToken);

    private const int PageSize = 500;

    /// <summary>Month * 100 + day of an <c>MM-DD</c> text (02-29 included), or null when it is not a day of the year.</summary>
    public static int? Parse(string text) => ProgramCalendar.ParseMonthDay(text) is { } day ? (day.Month * 100) + day.Day : null;

    /// <summary>Rewards the members whose birthday is the local day of <paramref name="now"/>.</summary>
    /// <returns>Members whose birthday transaction was applied by this run (not replayed).</returns>
    public async Task<int> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var program = programs.Current;
        if (!program.HasEventRules(EventNames.Birthday))
        {
            return 0;
        }

        var today = program.Calendar.LocalTime(now).Date;
        var from = (today.Month * 100) + today.Day;
        // Without a 29 February this year, those born on it celebrate on the 28th.
        var to = today is { Month: 2, Day: 28 } && !DateTime.IsLeapYear(today.Year) ? 229 : from;
        var transactionId = string.Create(CultureInfo.InvariantCulture, $"{ServerTransactionIds.Birthday}{today.Year}");
        var occurredAt = Timestamp.FromDateTimeOffset(program.Calendar.Instant(today));
        var rewarded = 0;
        var seen = 0;
        var after = string.Empty;
        while (true)
        {
            var page = await ledger.BirthdayMemberIdsAfterAsync(from, to, after, PageSize, cancellationToken);
            foreach (var memberId in page)
            {
                rewarded += await RewardAsync(memberId, program, transactionId, occurredAt, from, to, cancellationToken) ? 1 : 0;
            }

            seen += page.Count;
            if (page.Count < PageSize)
            {
                break;
            }

            after = page[^1];
            LogProgress(logger, seen, today);
        }

        if (seen > 0)
        {
            LogDone(logger, today, seen, rewarded);
        }

        return rewarded;
    }

    /// <returns>Whether this call applied the member's birthday transaction.</returns>
    private async Task<bool> RewardAsync(string memberId, LoyaltyProgram program, string transactionId, Timestamp occurredAt, int from, int to, CancellationToken cancellationToken)
    {
        try
        {
            // The member's state has the last word: the indexed column is only where to look.
            if (await members.GetAsync(memberId, program, cancellationToken) is not { } snapshot
                || snapshot.State.Birthday is not { } birthday || Parse(birthday) is not { } day || day < from || day > to)
            {
                return false;
            }

            var request = new RecordEventRequest
            {
                TransactionId = transactionId,
                MemberId = memberId,
                Event = EventNames.Birthday,
                // The same for every run of the day, so that a rerun is a retry of the same request.
                OccurredAt = occurredAt,
            };
            var answer = await processor.ProcessAsync(new EventIntent(request, program, metrics), cancellationToken);
            return !answer.Replayed;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.AlreadyExists)
        {
            // Rewarded on another day this year (the birthday was changed since): once a year it stays.
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // One member's failure must not cost the others their birthday; the next run retries this one.
            LogMemberFailed(logger, ex, memberId);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Birthday run for {Day:yyyy-MM-dd}: {Seen} members so far")]
    private static partial void LogProgress(ILogger logger, int seen, DateTime day);

    [LoggerMessage(Level = LogLevel.Information, Message = "Birthday run for {Day:yyyy-MM-dd}: {Seen} members with a birthday, {Rewarded} rewarded by this run")]
    private static partial void LogDone(ILogger logger, DateTime day, int seen, int rewarded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Birthday reward for {MemberId} failed; the next run retries it")]
    private static partial void LogMemberFailed(ILogger logger, Exception exception, string memberId);
}
