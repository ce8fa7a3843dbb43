using System.Globalization;

namespace LoyaltyCore.LoadTests;

/// <summary>A latency histogram of the server over the window: calls, mean and bucket-interpolated quantiles.</summary>
internal sealed record ServerLatency(long Count, double MeanMs, double P50Ms, double P90Ms, double P99Ms);

/// <summary>A gauge of the server read every few seconds through the window.</summary>
internal sealed record GaugeReads(double Mean, double Max);

/// <summary>
/// The server's own view of the window, from its Prometheus endpoint: group commit, Redis script and ledger
/// latency, and the runtime's GC, allocation, lock and thread pool figures (the System.Runtime meters, the same
/// counters dotnet-counters shows).
/// </summary>
internal sealed record ServerMetrics(
    long LedgerCommits,
    long LedgerRows,
    ServerLatency? LedgerCommit,
    ServerLatency? RedisApply,
    ServerLatency? RedisLoad,
    IReadOnlyDictionary<string, ServerLatency> GrpcByMethod,
    ServerLatency? PostgresOperations,
    long Gen0Collections,
    long Gen1Collections,
    long Gen2Collections,
    double AllocatedBytes,
    double GcPauseSeconds,
    long LockContentions,
    double JitSeconds,
    long JitMethods,
    long ThreadPoolWorkItems,
    GaugeReads? ThreadPoolQueueLength,
    GaugeReads? ThreadPoolThreads,
    GaugeReads? LedgerQueueDepth,
    long StateConflicts,
    long Replays,
    long LedgerCommitFailures)
{
    public double? RowsPerCommit => LedgerCommits > 0 ? (double)LedgerRows / LedgerCommits : null;

    public static ServerMetrics Compare(
        IReadOnlyDictionary<string, double> start,
        IReadOnlyDictionary<string, double> end,
        IReadOnlyList<IReadOnlyDictionary<string, double>> gaugeReads)
    {
        var delta = new Delta(start, end);
        IReadOnlyList<IReadOnlyDictionary<string, double>> allReads = [start, .. gaugeReads, end];
        var methods = new Dictionary<string, ServerLatency>(StringComparer.Ordinal);
        foreach (var method in end.Keys
                     .Where(k => PrometheusText.Name(k) == "grpc_server_handling_seconds_count")
                     .Select(k => PrometheusText.Label(k, "grpc_method"))
                     .OfType<string>()
                     .Distinct(StringComparer.Ordinal))
        {
            if (delta.Latency("grpc_server_handling_seconds", k => PrometheusText.Label(k, "grpc_method") == method) is { } latency)
            {
                methods[method] = latency;
            }
        }

        return new ServerMetrics(
            (long)delta.Sum("loyalty_ledger_rows_per_commit_count"),
            (long)delta.Sum("loyalty_ledger_rows_per_commit_sum"),
            delta.Latency("loyalty_ledger_commit_duration_seconds"),
            delta.Latency("loyalty_redis_script_duration_seconds", k => PrometheusText.Label(k, "script") == "apply"),
            delta.Latency("loyalty_redis_script_duration_seconds", k => PrometheusText.Label(k, "script") == "load"),
            methods,
            delta.Latency("npgsql_db_client_operation_duration"),
            (long)delta.Sum("system_runtime_dotnet_gc_collections", k => PrometheusText.Label(k, "gc_heap_generation") == "gen0"),
            (long)delta.Sum("system_runtime_dotnet_gc_collections", k => PrometheusText.Label(k, "gc_heap_generation") == "gen1"),
            (long)delta.Sum("system_runtime_dotnet_gc_collections", k => PrometheusText.Label(k, "gc_heap_generation") == "gen2"),
            delta.Sum("system_runtime_dotnet_gc_heap_total_allocated"),
            delta.Sum("system_runtime_dotnet_gc_pause_time"),
            (long)delta.Sum("system_runtime_dotnet_monitor_lock_contentions"),
            delta.Sum("system_runtime_dotnet_jit_compilation_time"),
            (long)delta.Sum("system_runtime_dotnet_jit_compiled_methods"),
            (long)delta.Sum("system_runtime_dotnet_thread_pool_work_item_count"),
            Gauge(allReads, "system_runtime_dotnet_thread_pool_queue_length"),
            Gauge(allReads, "system_runtime_dotnet_thread_pool_thread_count"),
            Gauge(allReads, "loyalty_ledger_queue_depth"),
            (long)delta.Sum("loyalty_hot_state_conflicts_total"),
            (long)delta.Sum("loyalty_transaction_replays_total"),
            (long)delta.Sum("loyalty_ledger_commit_failures_total"));
    }

    private static GaugeReads? Gauge(IReadOnlyList<IReadOnlyDictionary<string, double>> reads, string name)
    {
        var values = reads
            .Select(r => r.Where(s => PrometheusText.Name(s.Key) == name).Select(s => s.Value).DefaultIfEmpty(double.NaN).Sum())
            .Where(v => !double.IsNaN(v))
            .ToList();
        return values.Count == 0 ? null : new GaugeReads(values.Average(), values.Max());
    }

    /// <summary>Differences between two scrapes, summed over the samples of a name that pass a label filter.</summary>
    private sealed class Delta(IReadOnlyDictionary<string, double> start, IReadOnlyDictionary<string, double> end)
    {
        public double Sum(string name, Func<string, bool>? filter = null)
        {
            var total = 0.0;
            foreach (var (key, value) in end)
            {
                if (PrometheusText.Name(key) == name && (filter is null || filter(key)))
                {
                    total += value - start.GetValueOrDefault(key);
                }
            }

            return total;
        }

        /// <summary>
        /// Mean and quantiles of a histogram over the window, linearly interpolated inside its buckets (as
        /// Prometheus's histogram_quantile does). <paramref name="scale"/> turns the histogram's unit into ms.
        /// </summary>
        public ServerLatency? Latency(string name, Func<string, bool>? filter = null, double scale = 1000)
        {
            var count = Sum(name + "_count", filter);
            if (count <= 0)
            {
                return null;
            }

            var mean = Sum(name + "_sum", filter) / count * scale;
            var buckets = new SortedDictionary<double, double>();
            foreach (var (key, value) in end)
            {
                if (PrometheusText.Name(key) != name + "_bucket" || (filter is not null && !filter(key)) || PrometheusText.Label(key, "le") is not { } le)
                {
                    continue;
                }

                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                buckets[bound] = buckets.GetValueOrDefault(bound) + value - start.GetValueOrDefault(key);
            }

            return new ServerLatency((long)count, mean, Quantile(buckets, 0.5) * scale, Quantile(buckets, 0.9) * scale, Quantile(buckets, 0.99) * scale);
        }

        private static double Quantile(SortedDictionary<double, double> cumulative, double q)
        {
            if (cumulative.Count == 0)
            {
                return double.NaN;
            }

            var total = cumulative.Last().Value;
            var rank = q * total;
            var lower = 0.0;
            var below = 0.0;
            foreach (var (bound, count) in cumulative)
            {
                if (count >= rank)
                {
                    if (double.IsPositiveInfinity(bound))
                    {
                        return lower;
                    }

                    var inBucket = count - below;
                    return inBucket <= 0 ? bound : lower + ((bound - lower) * (rank - below) / inBucket);
                }

                lower = bound;
                below = count;
            }

            return lower;
        }
    }
}
