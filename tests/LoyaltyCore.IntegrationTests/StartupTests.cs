using System.Diagnostics;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The server's own process, started as an operator starts it.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Bad_settings_are_reported_one_line_each_with_a_non_zero_exit_before_anything_starts()
    {
        var ledger = Path.Combine(Path.GetTempPath(), $"loyalty-{Guid.NewGuid():N}.db");
        var (exitCode, output) = await RunServerAsync(new Dictionary<string, string>
        {
            ["Scoring__MaxLines"] = "-5",
            ["Server__MetricsPort"] = "not-a-port",
            ["Ledger__ConnectionString"] = $"Data Source={ledger}",
        });

        Assert.Equal(2, exitCode);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("Invalid setting:", StringComparison.Ordinal) && l.Contains("'Server:MetricsPort'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Invalid setting:", StringComparison.Ordinal) && l.Contains("MaxLines", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Invalid setting:", StringComparison.Ordinal) && l.Contains("Security:Clients", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("at ", StringComparison.Ordinal) || l.Contains("Unhandled exception", StringComparison.Ordinal));
        // Refused before the ledger was opened or migrated.
        Assert.False(File.Exists(ledger));
    }

    private static async Task<(int ExitCode, string Output)> RunServerAsync(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "LoyaltyCore.Server.dll")])
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
