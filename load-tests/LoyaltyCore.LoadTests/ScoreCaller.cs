using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HdrHistogram;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// One closed-loop caller: sends a Score call, waits for the answer, sends the next. Each caller owns its request,
/// histogram and counters, so the hot path takes no locks and the results are merged once at the end.
/// </summary>
internal sealed class ScoreCaller
{
    private const int MinUnitPriceMinor = 99;
    private const int MaxUnitPriceMinor = 4_999;

    private readonly ScoringService.ScoringServiceClient _client;
    private readonly Catalog _catalog;
    private readonly Metadata _headers;
    private readonly TimeSpan _callTimeout;
    private readonly string _transactionPrefix;
    private readonly Random _random;
    private readonly ScoreRequest _request;
    private long _sequence;

    public ScoreCaller(int index, string runId, ScoringService.ScoringServiceClient client, Catalog catalog, Metadata headers, LoadOptions options)
    {
        _client = client;
        _catalog = catalog;
        _headers = headers;
        _callTimeout = options.CallTimeout;
        _transactionPrefix = string.Create(CultureInfo.InvariantCulture, $"lt-{runId}-{index}-");
        _random = new Random();
        Latency = LatencyHistogram.Create(options.CallTimeout);

        // The request is sent again and again with its fields rewritten: the previous call has completed (and
        // been serialised) before the next one starts, and nothing else refers to it.
        _request = new ScoreRequest
        {
            Channel = Channel.Store,
            Currency = "EUR",
            OccurredAt = new Timestamp(),
        };
        for (var i = 0; i < options.Lines; i++)
        {
            _request.Lines.Add(new Line());
        }
    }

    /// <summary>Latencies of successful calls completed inside the measured window, in microseconds.</summary>
    public LongHistogram Latency { get; }

    /// <summary>Calls completed inside the measured window, by status code.</summary>
    public long[] Completed { get; } = new long[StatusCodes.Count];

    /// <summary>
    /// Calls until <paramref name="stopAt"/>; records only calls that complete at or after <paramref name="measureFrom"/>
    /// and before <paramref name="stopAt"/> (<see cref="Stopwatch"/> timestamps).
    /// </summary>
    public async Task RunAsync(long measureFrom, long stopAt, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            if (started >= stopAt)
            {
                return;
            }

            Prepare();
            StatusCode status;
            try
            {
                using var call = _client.ScoreAsync(_request, new CallOptions(_headers, DateTime.UtcNow + _callTimeout, cancellationToken));
                await call.ResponseAsync;
                status = StatusCode.OK;
            }
            catch (RpcException e)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    return;
                }

                status = e.StatusCode;
            }

            var finished = Stopwatch.GetTimestamp();
            if (finished < measureFrom || finished >= stopAt)
            {
                continue;
            }

            Completed[StatusCodes.Index(status)]++;
            if (status == StatusCode.OK)
            {
                LatencyHistogram.Record(Latency, Stopwatch.GetElapsedTime(started, finished));
            }
        }
    }

    private void Prepare()
    {
        _request.TransactionId = string.Create(CultureInfo.InvariantCulture, $"{_transactionPrefix}{_sequence++}");
        _request.MemberId = _catalog.MemberIds[_random.Next(_catalog.MemberIds.Count)];
        _request.StoreId = _catalog.StoreIds[_random.Next(_catalog.StoreIds.Count)];

        var sinceEpoch = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        _request.OccurredAt.Seconds = sinceEpoch / TimeSpan.TicksPerSecond;
        _request.OccurredAt.Nanos = (int)(sinceEpoch % TimeSpan.TicksPerSecond * TimeSpan.NanosecondsPerTick);

        foreach (var line in _request.Lines)
        {
            var product = _catalog.Products[_random.Next(_catalog.Products.Count)];
            line.Sku = product.Sku;
            line.Category = product.Category;
            line.Brand = product.Brand;
            line.Quantity = _random.Next(1, 4);
            line.UnitPriceMinor = _random.Next(MinUnitPriceMinor, MaxUnitPriceMinor + 1);
        }
    }
}
