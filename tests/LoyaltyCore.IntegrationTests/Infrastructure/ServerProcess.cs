using System.Diagnostics;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>The server binary run as an operator runs it: a process, its settings in the environment.</summary>
internal static class ServerProcess
{
    /// <summary>Runs the server with <paramref name="arguments"/> (a command) and returns its exit code and output (stdout, then stderr).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(Dictionary<string, string> environment, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "LoyaltyCore.Server.dll"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
