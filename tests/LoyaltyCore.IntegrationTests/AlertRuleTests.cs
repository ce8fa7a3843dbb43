using System.ComponentModel;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// The Prometheus rules in deploy/prometheus/rules: promtool accepts every rule file, every unit test in rules/tests
/// passes, and every alert has a unit test in which it fires and one in which it does not. promtool is
/// $LOYALTY_TEST_PROMTOOL (scripts/services.sh installs it) or the one on the PATH; a missing promtool fails the run.
/// </summary>
public sealed partial class AlertRuleTests
{
    [Fact]
    public async Task Promtool_accepts_every_rule_file()
    {
        var files = RuleFiles();
        Assert.NotEmpty(files);

        var (exitCode, output) = await PromtoolAsync(["check", "rules", .. files]);

        Assert.True(exitCode == 0, $"promtool check rules exited with {exitCode}:\n{output}");
    }

    [Fact]
    public async Task Every_promtool_unit_test_of_the_rules_passes()
    {
        var files = TestFiles();
        Assert.NotEmpty(files);

        var (exitCode, output) = await PromtoolAsync(["test", "rules", .. files]);

        Assert.True(exitCode == 0, $"promtool test rules exited with {exitCode}:\n{output}");
    }

    [Fact]
    public void Every_alert_has_a_unit_test_where_it_fires_and_one_where_it_does_not()
    {
        var root = RepositoryRoot();
        var alerts = RuleFiles()
            .SelectMany(file => AlertRule().Matches(File.ReadAllText(Path.Combine(root, file))))
            .Select(match => match.Groups["name"].Value)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(alerts);
        var cases = TestFiles()
            .SelectMany(file => AlertTestCase().Matches(File.ReadAllText(Path.Combine(root, file))))
            .Select(match => (Alert: match.Groups["name"].Value, Fires: match.Groups["fires"].Success))
            .ToHashSet();

        var neverFiring = alerts.Where(alert => !cases.Contains((alert, true))).ToList();
        var neverQuiet = alerts.Where(alert => !cases.Contains((alert, false))).ToList();

        Assert.True(neverFiring.Count == 0, "No promtool test expects these alerts to fire: " + string.Join(", ", neverFiring));
        Assert.True(neverQuiet.Count == 0, "No promtool test expects these alerts to stay quiet: " + string.Join(", ", neverQuiet));
    }

    /// <summary>The rule files, relative to the repository root (the glob prometheus.yml loads: rules/*.yml).</summary>
    private static List<string> RuleFiles() => YamlFiles(Path.Combine("deploy", "prometheus", "rules"));

    /// <summary>The promtool unit-test files, relative to the repository root.</summary>
    private static List<string> TestFiles() => YamlFiles(Path.Combine("deploy", "prometheus", "rules", "tests"));

    private static List<string> YamlFiles(string directory)
    {
        var root = RepositoryRoot();
        return Directory.GetFiles(Path.Combine(root, directory), "*.yml")
            .Select(path => Path.GetRelativePath(root, path))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "LoyaltyCore.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName
            ?? throw new InvalidOperationException($"No LoyaltyCore.sln in {AppContext.BaseDirectory} or above it.");
    }

    /// <summary>Runs promtool in the repository root; returns its exit code and output (stdout, then stderr).</summary>
    private static async Task<(int ExitCode, string Output)> PromtoolAsync(string[] arguments)
    {
        var promtool = Environment.GetEnvironmentVariable("LOYALTY_TEST_PROMTOOL") is { Length: > 0 } configured ? configured : "promtool";
        var start = new ProcessStartInfo(promtool)
        {
            WorkingDirectory = RepositoryRoot(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Start(start);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{promtool} {string.Join(' ', start.ArgumentList)} did not finish within 2 minutes.");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start)
                ?? throw new InvalidOperationException($"{start.FileName} did not start.");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Cannot run {start.FileName} ({e.Message}). Run the suite with ./scripts/test.sh, which installs Prometheus "
                + "and promtool, or set LOYALTY_TEST_PROMTOOL.",
                e);
        }
    }

    /// <summary>An alerting rule's name: <c>- alert: Name</c>.</summary>
    [GeneratedRegex(@"^[ \t]*-[ \t]*alert:[ \t]*(?<name>[^\s#]+)", RegexOptions.Multiline)]
    private static partial Regex AlertRule();

    /// <summary>
    /// A case of an alert_rule_test: <c>alertname: Name</c>, then <c>exp_alerts:</c> on the next line, followed by a
    /// list of alerts (<c>fires</c>) or by <c>[]</c>.
    /// </summary>
    [GeneratedRegex(@"^[ \t]*alertname:[ \t]*(?<name>[^\s#]+)[ \t]*\r?\n[ \t]*exp_alerts:[ \t]*(?:\[\]|\r?\n[ \t]*(?<fires>-))", RegexOptions.Multiline)]
    private static partial Regex AlertTestCase();
}
