using Grpc.Core;
using LoyaltyCore.Server.Batching;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using StackExchange.Redis;

namespace LoyaltyCore.Server.Benchmark;

/// <summary>Which of the durable answer's two writes a floor measurement does.</summary>
[Flags]
internal enum FloorParts
{
    HotState = 1,
    Ledger = 2,
    Both = HotState | Ledger,
}

/// <summary>One request's write, waiting in a floor batch.</summary>
internal sealed class FloorWrite(string memberId, string transactionId, long points) : IBatchedWork
{
    private readonly TaskCompletionSource _done = new();

    public string MemberId { get; } = memberId;

    public string TransactionId { get; } = transactionId;

    public long Points { get; } = points;

    public Task Done => _done.Task;

    public void Complete() => _done.TrySetResult();

    public void Fail(Exception exception) => _done.TrySetException(exception);
}

/// <summary>
/// The least work a durable answer needs from any design of the transaction pipeline, for load tests only: per batch
/// of concurrent requests, one script call in Redis (one HINCRBY per request) and one durable binary COPY of a
/// four-column row per request into a table with no key, index or constraint. No engine, no idempotency, no checks,
/// no stored response. What a request costs through it, against the echo, is what no pipeline can go below.
/// </summary>
internal sealed class DurableFloor
{
    private const int MaxKeysPerCall = 64;

    private const string AddScript = """
        for i, key in ipairs(KEYS) do
          redis.call('HINCRBY', key, 'p', ARGV[i])
        end
        return #KEYS
        """;

    private const string CreateTable = """
        CREATE TABLE IF NOT EXISTS bench_floor (
            member_id text NOT NULL, transaction_id text NOT NULL, points bigint NOT NULL, recorded_at bigint NOT NULL)
        """;

    private const string Copy = "COPY bench_floor (member_id, transaction_id, points, recorded_at) FROM STDIN (FORMAT BINARY)";

    private static readonly Status NeedsPostgres =
        new(StatusCode.FailedPrecondition, "The ledger floor needs the PostgreSQL ledger (Ledger:Provider=Postgres).");

    private readonly RedisConnection _redis;
    private readonly LedgerDatabase _ledger;
    private readonly TimeProvider _time;
    private readonly Dictionary<FloorParts, GroupBatcher<FloorWrite>> _batchers;
    private Task? _table;

    public DurableFloor(RedisConnection redis, LedgerDatabase ledger, TimeProvider time, IOptions<HotStateOptions> hotState, IOptions<LedgerOptions> ledgerOptions)
    {
        _redis = redis;
        _ledger = ledger;
        _time = time;
        // The same concurrency as the real pipeline's stages, so the floor batches as much as it can.
        var inFlight = Math.Max(hotState.Value.MaxConcurrentApplies, ledgerOptions.Value.MaxConcurrentCommits);
        _batchers = new()
        {
            [FloorParts.HotState] = new(batch => SendAsync(FloorParts.HotState, batch), hotState.Value.MaxConcurrentApplies),
            [FloorParts.Ledger] = new(batch => SendAsync(FloorParts.Ledger, batch), ledgerOptions.Value.MaxConcurrentCommits),
            [FloorParts.Both] = new(batch => SendAsync(FloorParts.Both, batch), inFlight),
        };
    }

    public Task WriteAsync(FloorParts parts, string memberId, string transactionId, long points)
    {
        if (parts.HasFlag(FloorParts.Ledger) && _ledger.Provider != LedgerProvider.Postgres)
        {
            throw new RpcException(NeedsPostgres);
        }

        var write = new FloorWrite(memberId, transactionId, points);
        _batchers[parts].Enqueue(write);
        return write.Done;
    }

    private async Task SendAsync(FloorParts parts, List<FloorWrite> batch)
    {
        if (parts.HasFlag(FloorParts.HotState))
        {
            // Calls of at most 64 keys, as the real applies; all members' keys in one call, so single-node Redis only.
            for (var start = 0; start < batch.Count; start += MaxKeysPerCall)
            {
                var count = Math.Min(MaxKeysPerCall, batch.Count - start);
                var keys = new RedisKey[count];
                var args = new RedisValue[count];
                for (var i = 0; i < count; i++)
                {
                    keys[i] = "bench:{" + batch[start + i].MemberId + "}:floor";
                    args[i] = batch[start + i].Points;
                }

                // The string overload sends EVALSHA by the script's hash (hashing 120 bytes per call, nothing like apply.lua's 3 KB).
                await _redis.Database.ScriptEvaluateAsync(AddScript, keys, args);
            }
        }

        if (parts.HasFlag(FloorParts.Ledger))
        {
            await EnsureTableAsync();
            await using var connection = (NpgsqlConnection)await _ledger.OpenAsync();
            await using var writer = await connection.BeginBinaryImportAsync(Copy);
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var write in batch)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(write.MemberId, NpgsqlDbType.Text);
                await writer.WriteAsync(write.TransactionId, NpgsqlDbType.Text);
                await writer.WriteAsync(write.Points, NpgsqlDbType.Bigint);
                await writer.WriteAsync(now, NpgsqlDbType.Bigint);
            }

            await writer.CompleteAsync();
        }

        foreach (var write in batch)
        {
            write.Complete();
        }
    }

    /// <summary>Creates the table on first use; a failed attempt is retried by the next batch.</summary>
    private Task EnsureTableAsync()
    {
        var current = Volatile.Read(ref _table);
        if (current is { IsFaulted: false, IsCanceled: false })
        {
            return current;
        }

        // Two batches may both create it (IF NOT EXISTS): harmless.
        var created = CreateTableAsync();
        var winner = Interlocked.CompareExchange(ref _table, created, current);
        return winner == current ? created : winner!;
    }

    private async Task CreateTableAsync()
    {
        await using var connection = (NpgsqlConnection)await _ledger.OpenAsync();
        await using var command = new NpgsqlCommand(CreateTable, connection);
        await command.ExecuteNonQueryAsync();
    }
}
