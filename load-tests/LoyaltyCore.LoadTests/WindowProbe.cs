using System.Diagnostics;
using System.Globalization;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// What the machine and the server did during the measured window, read at its start and end (and every few
/// seconds in between for gauges): CPU time of the sampled processes (Linux <c>/proc</c>), of this generator and of
/// the whole machine, and the server's Prometheus samples. Only the difference between two reads is reported, so
/// enrolment and warm-up never count.
/// </summary>
internal sealed class WindowProbe : IDisposable
{
    /// <summary>USER_HZ: the unit of the times in /proc/PID/stat and /proc/stat, 100 on every Linux ABI.</summary>
    private const double ClockTicksPerSecond = 100;

    private static readonly TimeSpan GaugeInterval = TimeSpan.FromSeconds(2);

    private readonly LoadOptions _options;
    private readonly HttpClient? _http;
    private readonly List<IReadOnlyDictionary<string, double>> _gaugeReads = [];

    public WindowProbe(LoadOptions options)
    {
        _options = options;
        if (options.MetricsUrl is not null)
        {
            _http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        }
    }

    /// <summary>Reads at the window's start and end; completes after the end read.</summary>
    public async Task<WindowMeasurements> MeasureAsync(MeasurementWindow window, CancellationToken cancellationToken)
    {
        await MeasurementWindow.DelayUntilAsync(window.MeasureFrom, cancellationToken);
        var start = await ReadAsync(cancellationToken);
        while (true)
        {
            var next = Stopwatch.GetTimestamp() + MeasurementWindow.ToTicks(GaugeInterval);
            if (next >= window.StopAt)
            {
                break;
            }

            await MeasurementWindow.DelayUntilAsync(next, cancellationToken);
            if (_http is not null)
            {
                _gaugeReads.Add(await ScrapeAsync(cancellationToken));
            }
        }

        await MeasurementWindow.DelayUntilAsync(window.StopAt, cancellationToken);
        var end = await ReadAsync(cancellationToken);
        return Compare(start, end);
    }

    public void Dispose() => _http?.Dispose();

    private async Task<ProbeRead> ReadAsync(CancellationToken cancellationToken)
    {
        // The cheap local reads first and close together; the scrape takes a few milliseconds of the server's time.
        var at = Stopwatch.GetTimestamp();
        var processes = new Dictionary<string, double?>(StringComparer.Ordinal);
        var switches = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var process in _options.SampledProcesses)
        {
            processes[process.Name] = ProcessTreeCpuSeconds(process.Pid);
            switches[process.Name] = ContextSwitches(process.Pid);
        }

        switches["generator"] = ContextSwitches(Environment.ProcessId);
        var generator = Environment.CpuUsage.TotalTime.TotalSeconds;
        var machine = MachineCpuSeconds();
        var metrics = _http is null ? null : await ScrapeAsync(cancellationToken);
        return new ProbeRead(at, processes, switches, generator, machine, metrics);
    }

    private WindowMeasurements Compare(ProbeRead start, ProbeRead end)
    {
        var seconds = (double)(end.At - start.At) / Stopwatch.Frequency;
        var processes = new Dictionary<string, double?>(StringComparer.Ordinal);
        foreach (var (name, before) in start.ProcessCpuSeconds)
        {
            var after = end.ProcessCpuSeconds.GetValueOrDefault(name);
            processes[name] = before is null || after is null ? null : after - before;
        }

        processes["generator"] = end.GeneratorCpuSeconds - start.GeneratorCpuSeconds;
        var switches = new Dictionary<string, long?>(StringComparer.Ordinal);
        foreach (var (name, before) in start.ContextSwitches)
        {
            var after = end.ContextSwitches.GetValueOrDefault(name);
            switches[name] = before is null || after is null ? null : after - before;
        }

        MachineCpu? machine = start.Machine is { } m0 && end.Machine is { } m1
            ? new MachineCpu(Environment.ProcessorCount, m1.Busy - m0.Busy, m1.Total - m0.Total)
            : null;
        var metrics = start.Metrics is not null && end.Metrics is not null
            ? ServerMetrics.Compare(start.Metrics, end.Metrics, _gaugeReads)
            : null;
        return new WindowMeasurements(seconds, processes, switches, machine, metrics);
    }

    private async Task<IReadOnlyDictionary<string, double>> ScrapeAsync(CancellationToken cancellationToken)
    {
        try
        {
            var text = await _http!.GetStringAsync(_options.MetricsUrl, cancellationToken);
            return PrometheusText.Parse(text);
        }
        catch (HttpRequestException)
        {
            return new Dictionary<string, double>();
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Dictionary<string, double>();
        }
    }

    /// <summary>
    /// CPU seconds of a process and its living children (PostgreSQL runs a process per connection): each one's user
    /// and system time plus what its exited children left it, so a child that exits between two reads is still counted.
    /// </summary>
    private static double? ProcessTreeCpuSeconds(int pid)
    {
        if (ReadStat(pid) is not { } root)
        {
            return null;
        }

        var ticks = root.Ticks;
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(directory.AsSpan());
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var child) && child != pid
                && ReadStat(child) is { } stat && stat.ParentPid == pid)
            {
                ticks += stat.Ticks;
            }
        }

        return ticks / ClockTicksPerSecond;
    }

    /// <summary>
    /// Context switches (voluntary and not) of every thread of a process: each is a thread going to sleep or being
    /// preempted, and on this kind of virtual machine each wake-up behind one costs a hypercall.
    /// </summary>
    private static long? ContextSwitches(int pid)
    {
        long total = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                    {
                        if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)
                            || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                        {
                            total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                        }
                    }
                }
                catch (IOException)
                {
                    // The thread ended between the listing and the read: its switches are lost with it.
                }
            }
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        return total;
    }

    private static (int ParentPid, long Ticks)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid ..." where comm may hold spaces and parentheses: fields are counted after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // After comm: [0] state, [1] ppid, ... [11] utime, [12] stime, [13] cutime, [14] cstime.
        var ticks = 0L;
        for (var i = 11; i <= 14; i++)
        {
            ticks += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        return (int.Parse(fields[1], CultureInfo.InvariantCulture), ticks);
    }

    private static (double Busy, double Total)? MachineCpuSeconds()
    {
        try
        {
            using var reader = new StreamReader("/proc/stat");
            var line = reader.ReadLine();
            if (line is null || !line.StartsWith("cpu ", StringComparison.Ordinal))
            {
                return null;
            }

            // user nice system idle iowait irq softirq steal (guest time is already inside user).
            var values = line[4..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(8)
                .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            var total = values.Sum();
            var idle = values[3] + values[4];
            return ((total - idle) / ClockTicksPerSecond, total / ClockTicksPerSecond);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private sealed record ProbeRead(
        long At,
        IReadOnlyDictionary<string, double?> ProcessCpuSeconds,
        IReadOnlyDictionary<string, long?> ContextSwitches,
        double GeneratorCpuSeconds,
        (double Busy, double Total)? Machine,
        IReadOnlyDictionary<string, double>? Metrics);
}

/// <param name="Cores">Logical CPUs.</param>
/// <param name="BusySeconds">CPU time spent on anything but idle and I/O wait, all cores together.</param>
/// <param name="TotalSeconds">All CPU time that passed, all cores together.</param>
internal sealed record MachineCpu(int Cores, double BusySeconds, double TotalSeconds)
{
    public double Utilisation => TotalSeconds > 0 ? BusySeconds / TotalSeconds : 0;
}

/// <param name="ProcessCpuSeconds">By name (the sampled processes, and "generator"); null when a process could not be read.</param>
/// <param name="ContextSwitches">Of every thread of each sampled process (its children not included), and of the generator.</param>
internal sealed record WindowMeasurements(
    double Seconds,
    IReadOnlyDictionary<string, double?> ProcessCpuSeconds,
    IReadOnlyDictionary<string, long?> ContextSwitches,
    MachineCpu? Machine,
    ServerMetrics? Server);

/// <summary>The Prometheus text format, reduced to "name{labels}" → value.</summary>
internal static class PrometheusText
{
    public static IReadOnlyDictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            // The value follows the last space outside the labels (no timestamps are exported).
            var closing = line.LastIndexOf('}');
            var space = line[(closing + 1)..].IndexOf(' ');
            if (space < 0)
            {
                continue;
            }

            var split = closing + 1 + space;
            if (double.TryParse(line[(split + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                samples[line[..split].ToString()] = value;
            }
        }

        return samples;
    }

    public static string Name(string key)
    {
        var brace = key.IndexOf('{', StringComparison.Ordinal);
        return brace < 0 ? key : key[..brace];
    }

    /// <summary>The value of one label in a sample key, or null.</summary>
    public static string? Label(string key, string label)
    {
        var marker = label + "=\"";
        var start = key.IndexOf(marker, StringComparison.Ordinal);
        if (start < 0 || (start > 0 && key[start - 1] is not ('{' or ',')))
        {
            return null;
        }

        start += marker.Length;
        var end = key.IndexOf('"', start);
        return end < 0 ? null : key[start..end];
    }
}
