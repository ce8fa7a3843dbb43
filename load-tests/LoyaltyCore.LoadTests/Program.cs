using Grpc.Core;
using LoyaltyCore.LoadTests;

if (!LoadOptions.TryParse(args, out var options, out var error))
{
    if (!string.IsNullOrEmpty(error))
    {
        await Console.Error.WriteLineAsync("error: " + error);
    }

    await Console.Error.WriteLineAsync(LoadOptions.Usage);
    return string.IsNullOrEmpty(error) ? 0 : 2;
}

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the run and still reports what was measured; a second one kills the process.
    e.Cancel = !interrupted.IsCancellationRequested;
    interrupted.Cancel();
};

using var run = new LoadRun(options);
var catalog = Catalog.Create(options.Members);
var profile = new TrafficProfile(options, catalog);

EnrolmentResult? enrolment = null;
if (options.NeedsMembers && !options.SkipEnroll)
{
    Console.WriteLine($"Enrolling {options.Members} members at {options.Target} ({options.EnrollParallelism} at a time)...");
    try
    {
        enrolment = await run.EnrollAsync(catalog, interrupted.Token);
    }
    catch (RpcException e)
    {
        await Console.Error.WriteLineAsync($"error: enrolment failed with {e.StatusCode}: {e.Status.Detail}");
        return 1;
    }
    catch (OperationCanceledException)
    {
        await Console.Error.WriteLineAsync("Interrupted during enrolment.");
        return 130;
    }
}

Console.WriteLine($"{options.Label ?? options.TargetRpc.ToString()}: {options.Warmup.TotalSeconds:0} s warm-up, then {options.Duration.TotalSeconds:0} s measured...");
var result = await run.RunAsync(profile, interrupted.Token);

Console.WriteLine();
Console.Write(Report.ToText(options, enrolment, result));
if (options.JsonPath is not null)
{
    await Report.WriteJsonAsync(options.JsonPath, options, enrolment, result, CancellationToken.None);
    Console.WriteLine($"results written to {options.JsonPath}");
}

return result.Outcomes.Ok > 0 ? 0 : 1;
