using System.Globalization;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.Server.Benchmark;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Members;
using LoyaltyCore.Server.Partners;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Programs;
using LoyaltyCore.Server.Reports;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Transactions;
using Microsoft.Extensions.Options;
using Prometheus;

namespace LoyaltyCore.Server.Hosting;

public static partial class LoyaltyCoreApplicationExtensions
{
    public static WebApplication MapLoyaltyCore(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // Each listener serves its own: metrics only on the metrics one, the API never there.
        app.Use((context, next) => Listeners.Allows(context) ? next(context) : NotFound(context));
        // Open, as reflection is: the contract is public, the calls are not.
        app.UseSwagger();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapGrpcService<PartnerAdminGrpcService>();
        app.MapGrpcService<PartnerGrpcService>().RequireRateLimiting(PartnerRateLimits.Policy);
        app.MapGrpcService<ScoringGrpcService>();
        app.MapGrpcService<MemberGrpcService>();
        app.MapGrpcService<ProgramGrpcService>();
        app.MapGrpcService<SupportGrpcService>();
        app.MapGrpcService<ReportGrpcService>();
        if (app.Services.GetRequiredService<IOptions<BenchmarkOptions>>().Value.EnableEcho)
        {
            app.MapGrpcService<EchoGrpcService>();
        }
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
        app.MapMetrics();
        var version = typeof(LoyaltyCoreApplicationExtensions).Assembly
            .GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "unknown";
        app.Services.GetRequiredService<Observability.LoyaltyMetrics>().BuildInfo.WithLabels(version).Set(1);
        return app;
    }

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Connects to Redis, migrates the ledger when configured to and loads the program, before the first request is
    /// accepted. (Entries a previous process left pending are committed by the recovery service as soon as it starts.)
    /// </summary>
    public static async Task InitializeLoyaltyCoreAsync(this WebApplication app, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(app);
        var services = app.Services;
        await services.GetRequiredService<RedisConnection>().ConnectAsync();
        if (services.GetRequiredService<IOptions<LedgerOptions>>().Value.MigrateOnStart)
        {
            await services.GetRequiredService<LedgerMigrator>().MigrateAsync(cancellationToken);
        }

        await services.GetRequiredService<ProgramProvider>().LoadAsync(cancellationToken);
    }

    /// <summary>
    /// Runs the server, or one of its commands: <c>migrate</c> applies ledger migrations; <c>rebuild</c> recomputes
    /// every member's Redis state from the ledger; <c>expire --as-of YYYY-MM-DD</c> expires the points due that day;
    /// <c>report --from --to [--compare previous-year] [--format md|csv|json|html] [--out FILE]</c> writes the KPI report.
    /// </summary>
    public static async Task<int> RunLoyaltyCoreAsync(this WebApplication app, string[] args)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(args);
        var command = args.FirstOrDefault(a => !a.StartsWith('-') && !a.Contains('=', StringComparison.Ordinal));
        if (SettingProblems(app.Services) is { Count: > 0 } problems)
        {
            foreach (var problem in problems)
            {
                Console.Error.WriteLine($"Invalid setting: {problem}");
            }

            return 2;
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("LoyaltyCore");
        switch (command)
        {
            case null or "serve":
                await app.InitializeLoyaltyCoreAsync();
                await app.RunAsync();
                return 0;

            case "migrate":
                await app.Services.GetRequiredService<RedisConnection>().ConnectAsync();
                var applied = await app.Services.GetRequiredService<LedgerMigrator>().MigrateAsync();
                LogMigrated(logger, applied);
                return 0;

            case "rebuild":
                return await RebuildAsync(app, logger);

            case "expire":
                return await ExpireAsync(app, args, logger);

            case "report":
                return await ReportAsync(app, args, logger);

            default:
                LogUnknownCommand(logger, command);
                return 2;
        }
    }

    /// <summary>
    /// Every option validated at once, before Redis, the embedded server, migrations or listeners start: a bad setting
    /// is one line saying which and why, never a stack trace after half the start-up ran.
    /// </summary>
    public static IReadOnlyList<string> SettingProblems(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<SettingsCheck>().Problems(services);
    }

    /// <summary>
    /// Recomputes every member's Redis state from the ledger, beside running servers and without listeners of its own:
    /// only the ledger writer runs (a member's pending entries are committed before their state is rebuilt).
    /// </summary>
    private static async Task<int> RebuildAsync(WebApplication app, ILogger logger)
    {
        await app.InitializeLoyaltyCoreAsync();
        var writer = app.Services.GetRequiredService<LedgerWriter>();
        await writer.StartAsync(CancellationToken.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var program = app.Services.GetRequiredService<ProgramProvider>().Current;
            var rebuilt = await app.Services.GetRequiredService<MemberDirectory>().RebuildAllAsync(program, CancellationToken.None, count => LogRebuilding(logger, count, clock.Elapsed.TotalSeconds));
            LogRebuilt(logger, rebuilt, clock.Elapsed.TotalSeconds);
            return 0;
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Expires the points due on a day (today on the program's clock without <c>--as-of</c>), beside running servers
    /// and without listeners, as the background run does; progress is logged after each page of members.
    /// </summary>
    private static async Task<int> ExpireAsync(WebApplication app, string[] args, ILogger logger)
    {
        var run = app.Services.GetRequiredService<PointExpiryRun>();
        int? asOf = null;
        var at = Array.IndexOf(args, "--as-of");
        if (at >= 0)
        {
            if (at + 1 >= args.Length || !DateOnly.TryParseExact(args[at + 1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
            {
                LogBadAsOf(logger);
                return 2;
            }

            asOf = ExpiryPolicy.DayKey(day);
        }

        await app.InitializeLoyaltyCoreAsync();
        var today = run.Today(app.Services.GetRequiredService<TimeProvider>().GetUtcNow());
        if (asOf > today)
        {
            // Points can be spent up to the day before they expire, and a finished day is never run again.
            LogFutureAsOf(logger, today);
            return 2;
        }

        var writer = app.Services.GetRequiredService<LedgerWriter>();
        await writer.StartAsync(CancellationToken.None);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var day = asOf ?? today;
            var summary = await run.RunAsync(day, s => LogExpiring(logger, s.Members, s.Points, clock.Elapsed.TotalSeconds), CancellationToken.None);
            if (summary.AlreadyFinished)
            {
                LogExpiryAlreadyFinished(logger, day);
                return 0;
            }

            LogExpiryDone(logger, day, summary.Members, summary.Expired, summary.Points, summary.Failed, clock.Elapsed.TotalSeconds);
            return summary.Failed == 0 ? 0 : 1;
        }
        finally
        {
            await writer.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Writes the KPI report of a period (GetKpiReport's, formatted) to standard output or <c>--out</c>, without
    /// listeners, beside running servers: it only reads, apart from bringing the KPI rollups up to date.
    /// </summary>
    private static async Task<int> ReportAsync(WebApplication app, string[] args, ILogger logger)
    {
        string? Option(string name)
        {
            var at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }

        var violations = new List<Google.Rpc.BadRequest.Types.FieldViolation>();
        var from = ReportGrpcService.Day(Option("--from") ?? string.Empty, "--from", violations);
        var to = ReportGrpcService.Day(Option("--to") ?? string.Empty, "--to", violations);
        var compare = Option("--compare") ?? "none";
        var format = Option("--format") ?? "md";
        if (compare is not ("none" or "previous-year"))
        {
            violations.Add(new() { Field = "--compare", Description = "must be none or previous-year" });
        }

        if (!ReportFormats.Names.Contains(format))
        {
            violations.Add(new() { Field = "--format", Description = "must be md, csv, json or html" });
        }

        if (from > to || (from is { } f && to is { } t && t.DayNumber - f.DayNumber + 1 > KpiReports.MaxDays))
        {
            violations.Add(new() { Field = "--to", Description = $"must not be before --from, and the period at most {KpiReports.MaxDays} days" });
        }

        if (violations.Count > 0)
        {
            foreach (var violation in violations)
            {
                LogBadReportOption(logger, violation.Field, violation.Description);
            }

            return 2;
        }

        await app.InitializeLoyaltyCoreAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await app.Services.GetRequiredService<KpiReports>().BuildAsync(from!.Value, to!.Value,
            compare == "previous-year" ? Contracts.V1.Comparison.PreviousYear : Contracts.V1.Comparison.None, CancellationToken.None);
        var text = ReportFormats.Write(report, format);
        if (Option("--out") is { } path)
        {
            await File.WriteAllTextAsync(path, text);
            LogReportWritten(logger, path, clock.Elapsed.TotalSeconds);
        }
        else
        {
            await Console.Out.WriteAsync(text);
            await Console.Out.FlushAsync();
        }

        return 0;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "report: {Option} {Problem}")]
    private static partial void LogBadReportOption(ILogger logger, string option, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "KPI report written to {Path} ({Seconds:0.0} s)")]
    private static partial void LogReportWritten(ILogger logger, string path, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "expire: --as-of must not be after today ({Today}, program clock)")]
    private static partial void LogFutureAsOf(ILogger logger, int today);

    [LoggerMessage(Level = LogLevel.Error, Message = "expire: --as-of needs a day as YYYY-MM-DD")]
    private static partial void LogBadAsOf(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expiring: {Members} members looked at, {Points} points expired so far ({Seconds:0.0} s)")]
    private static partial void LogExpiring(ILogger logger, int members, long points, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "The expiry run of {AsOf} had already finished; nothing to do")]
    private static partial void LogExpiryAlreadyFinished(ILogger logger, int asOf);

    [LoggerMessage(Level = LogLevel.Information, Message = "Expiry run of {AsOf}: {Members} members looked at, {Expired} with points expired, {Points} points expired, {Failed} failed ({Seconds:0.0} s)")]
    private static partial void LogExpiryDone(ILogger logger, int asOf, int members, int expired, long points, int failed, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rebuilding: {Count} members so far ({Seconds:0.0} s)")]
    private static partial void LogRebuilding(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ledger migrations applied: {Count}")]
    private static partial void LogMigrated(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Hot state rebuilt from the ledger for {Count} members in {Seconds:0.0} s")]
    private static partial void LogRebuilt(ILogger logger, int count, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unknown command '{Command}'. Commands: serve (default), migrate, rebuild, expire, report")]
    private static partial void LogUnknownCommand(ILogger logger, string command);
}
