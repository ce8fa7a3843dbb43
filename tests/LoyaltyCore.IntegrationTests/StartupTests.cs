using System.Diagnostics;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The server's own process, started as an operator starts it.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Bad_settings_are_reported_one_line_each_with_a_non_zero_exit_before_anything_starts()
    {
        var ledger = Path.Combine(Path.GetTempPath(), $"loyalty-{Guid.NewGuid():N}.db");
        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>
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

    [Theory]
    [InlineData("0.0.0.0", null, 2)]
    [InlineData("0.0.0.0", "true", 0)]
    public async Task Cleartext_grpc_on_a_network_address_needs_an_explicit_setting(string bindAddress, string? allowCleartext, int expectedExit)
    {
        var environment = new Dictionary<string, string>
        {
            ["Server__BindAddress"] = bindAddress,
            ["Security__Clients__0__Id"] = "ops",
            ["Security__Clients__0__Key"] = "ops-key-0123456789abcdef",
            ["Security__Clients__0__Roles__0"] = "admin",
            ["Ledger__ConnectionString"] = $"Data Source={Path.Combine(Path.GetTempPath(), $"loyalty-{Guid.NewGuid():N}.db")}",
        };
        if (allowCleartext is not null)
        {
            environment["Server__AllowCleartextOnNetwork"] = allowCleartext;
        }

        // "migrate" starts no listener: with the setting it runs to completion, without it it is refused first.
        var (exitCode, output) = await ServerProcess.RunAsync(environment, "migrate");

        Assert.True(exitCode == expectedExit, output);
        Assert.Equal(expectedExit != 0, output.Contains("Invalid setting: Server:BindAddress is not a loopback address but gRPC would be cleartext", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_rebuild_command_runs_beside_a_live_server_on_its_ports_and_recomputes_every_member()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        foreach (var memberId in members)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId));
            await HotState.SetBalanceAsync(memberId, 123_456);
        }

        // The live server holds these ports: a command that opened listeners could not start.
        var (exitCode, output) = await ServerProcess.RunAsync(new Dictionary<string, string>
        {
            ["HotState__Redis"] = TestEnvironment.Redis,
            ["Ledger__Provider"] = "Postgres",
            ["Ledger__ConnectionString"] = server.LedgerConnectionString,
            ["Server__GrpcPort"] = server.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server__MetricsPort"] = server.MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security__Clients__0__Id"] = "ops",
            ["Security__Clients__0__Key"] = "ops-key-0123456789abcdef",
            ["Security__Clients__0__Roles__0"] = "admin",
        }, "rebuild");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Rebuilding: 3 members so far", output, StringComparison.Ordinal);
        Assert.Contains("Hot state rebuilt from the ledger for 3 members", output, StringComparison.Ordinal);
        foreach (var memberId in members)
        {
            Assert.Equal(45, await HotState.BalanceAsync(memberId));
        }

        // The live server goes on serving the rebuilt members.
        Assert.Equal(90, (await server.Scoring.ScoreAsync(Requests.Score(members[0]))).Balance);
    }

    [Fact]
    public async Task The_expire_command_runs_beside_a_live_server_reports_progress_and_is_idempotent()
    {
        await using var server = await ServerInstance.StartAsync(s => s["Expiry:RunEnabled"] = "false", ownLedger: true);
        await Programs.PublishActiveSinceAsync(server, Programs.Document(Programs.Version(), """ "expiry": { "endOf": "month" } """), DateTimeOffset.UtcNow.AddDays(-100));
        var members = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => IdempotencyTests.EnrolledMemberAsync(server)));
        var old = DateTimeOffset.UtcNow.AddDays(-40);
        foreach (var memberId in members)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: old));
            await server.Scoring.ScoreAsync(Requests.Score(memberId));
        }

        // Bought 40 days ago, their lots expired at the end of that month; today's expire at the end of this one.
        var due = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).DateTime);
        var environment = new Dictionary<string, string>
        {
            ["HotState__Redis"] = TestEnvironment.Redis,
            ["Ledger__Provider"] = "Postgres",
            ["Ledger__ConnectionString"] = server.LedgerConnectionString,
            ["Server__GrpcPort"] = server.GrpcPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server__MetricsPort"] = server.MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Security__Clients__0__Id"] = "ops",
            ["Security__Clients__0__Key"] = "ops-key-0123456789abcdef",
            ["Security__Clients__0__Roles__0"] = "admin",
        };
        var asOf = due.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

        var (exitCode, output) = await ServerProcess.RunAsync(environment, "expire", "--as-of", asOf);
        var (againCode, again) = await ServerProcess.RunAsync(environment, "expire", "--as-of", asOf);
        var (badCode, bad) = await ServerProcess.RunAsync(environment, "expire", "--as-of", "tomorrow");
        var (futureCode, future) = await ServerProcess.RunAsync(environment, "expire", "--as-of", "2999-01-01");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Expiring: 3 members looked at, 135 points expired so far", output, StringComparison.Ordinal);
        Assert.Contains($"Expiry run of {due:yyyyMMdd}: 3 members looked at, 3 with points expired, 135 points expired, 0 failed", output, StringComparison.Ordinal);
        Assert.True(againCode == 0, again);
        Assert.Contains($"The expiry run of {due:yyyyMMdd} had already finished", again, StringComparison.Ordinal);
        Assert.Equal(2, badCode);
        Assert.Contains("expire: --as-of needs a day as YYYY-MM-DD", bad, StringComparison.Ordinal);
        Assert.Equal(2, futureCode);
        Assert.Contains("expire: --as-of must not be after today", future, StringComparison.Ordinal);
        foreach (var memberId in members)
        {
            // The live server sees what the command did (the command changed Redis, not only the ledger).
            Assert.Equal(45, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
            await ReplayAssert.RedisIsTheLedgersReplayAsync(server, memberId);
        }
    }
}
