using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Batching;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;
using Prometheus;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>A member's state as the ledger says it is, ready to be loaded into Redis.</summary>
/// <param name="Sequence">The number of the member's last change in the ledger.</param>
internal readonly record struct MemberLoad(MemberState State, bool HasHistory, long Sequence, long ChangeId);

internal enum ApplyOutcome
{
    Applied,
    Replay,
    Missing,
    CheckLedger,
    Conflict,
    Insufficient,
}

/// <param name="Record">For a replay: the stored fingerprint and response.</param>
/// <param name="PendingEntry">For a replay whose ledger commit may not have happened yet.</param>
/// <param name="Balance">Insufficient: the balance that was too low.</param>
/// <param name="Held">Insufficient: the points held by open holds at that balance.</param>
internal readonly record struct ApplyReply(
    ApplyOutcome Outcome,
    MemberSnapshot? Snapshot = null,
    byte[]? Record = null,
    byte[]? PendingEntry = null,
    long Balance = 0,
    long Held = 0);

/// <param name="ExpectedVersion">The version of the state the change was computed on ('' for none: the script answers with the state).</param>
/// <param name="NewVersion">The version the change writes: unique to it, so the member's next transaction can be sent on it.</param>
/// <param name="BalanceDelta">What the change adds to the balance; a debit is refused beyond the balance.</param>
/// <param name="NewBalance">The balance after, on the expected state.</param>
/// <param name="Writes">The other fields the change sets, with their values after on the expected state.</param>
/// <param name="Deletes">Fields to drop: counters that no longer matter.</param>
/// <param name="RequiredAvailable">
/// The points that must be available (balance less points held) for the change to apply: 0 for no check, -1 to
/// refuse it unless it is a retry.
/// </param>
internal sealed record ApplyCommand(
    string MemberId,
    string TransactionId,
    string ExpectedVersion,
    string NewVersion,
    long BalanceDelta,
    long NewBalance,
    IReadOnlyList<KeyValuePair<string, RedisValue>> Writes,
    IReadOnlyList<string> Deletes,
    byte[] Record,
    byte[] Entry,
    long OccurredAtMs,
    bool LedgerChecked,
    long RequiredAvailable);

/// <summary>
/// Members' balances, tiers and transaction records in Redis. Every key of a member carries the hash tag
/// <c>{m:id}</c>, so one script can touch all of them on one Redis Cluster node.
/// </summary>
internal sealed class HotStateStore
{
    private static readonly string ApplyScript = ReadScript("apply.lua");

    // EVALSHA by a hash computed once: the string overload hashes the whole script text on every call to find it.
    // SHA-1 is what Redis names scripts by, not a security measure.
#pragma warning disable CA5350
    private static readonly byte[] ApplyScriptSha1 = System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(ApplyScript));
#pragma warning restore CA5350
    private static readonly string LoadScript = ReadScript("load.lua");

    // Bounds one script's run: Redis serves nobody else while it runs.
    private const int MaxTransactionsPerCall = 64;

    private readonly RedisConnection _redis;
    private readonly LoyaltyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly long _recordTtlSeconds;
    private readonly long _replayWindowMs;
    private readonly long _clockSkewMs;
    private readonly Histogram.Child _applyDuration;
    private readonly Histogram.Child _loadDuration;
    private readonly Histogram _applyBatchSize;
    private readonly GroupBatcher<PendingApply> _batcher;

    public HotStateStore(RedisConnection redis, IOptions<HotStateOptions> options, LoyaltyMetrics metrics, TimeProvider time)
    {
        _redis = redis;
        _metrics = metrics;
        _time = time;
        var settings = options.Value;
        _prefix = settings.KeyPrefix;
        _replayWindowMs = (long)settings.ReplayWindow.TotalMilliseconds;
        _recordTtlSeconds = (long)Math.Ceiling(settings.ReplayWindow.TotalSeconds);
        _clockSkewMs = (long)settings.ClockSkew.TotalMilliseconds;
        _applyDuration = metrics.RedisScriptDuration.WithLabels("apply");
        _loadDuration = metrics.RedisScriptDuration.WithLabels("load");
        _applyBatchSize = metrics.RedisApplyBatchSize;
        _batcher = new GroupBatcher<PendingApply>(SendAsync, settings.MaxConcurrentApplies);
    }

    /// <summary>
    /// A version for a change to write: random over 63 bits, so no other change of the member, on any server, writes
    /// the same one, and a state's version names its content.
    /// </summary>
    public static string NewVersion() => Random.Shared.NextInt64(1, long.MaxValue).ToString(CultureInfo.InvariantCulture);

    /// <summary>Applies one transaction, batched with the concurrent ones (see <see cref="GroupBatcher{TPending}"/>).</summary>
    public Task<ApplyReply> ApplyAsync(ApplyCommand command)
    {
        var pending = new PendingApply(command);
        _batcher.Enqueue(pending);
        return pending.Reply;
    }

    /// <summary>Sends a batch as one script call per group of keys that may share a script, and settles every apply.</summary>
    private async Task SendAsync(List<PendingApply> batch)
    {
        if (batch.Count <= MaxTransactionsPerCall && (batch.Count == 1 || !_redis.SlotsBoundScripts))
        {
            await SendCallAsync(batch);
            return;
        }

        var calls = new List<List<PendingApply>>();
        if (_redis.SlotsBoundScripts)
        {
            var multiplexer = _redis.Multiplexer;
            var bySlot = new Dictionary<int, List<PendingApply>>();
            foreach (var pending in batch)
            {
                var slot = multiplexer.HashSlot(HashTag(pending.Command.MemberId));
                if (!bySlot.TryGetValue(slot, out var group))
                {
                    bySlot[slot] = group = [];
                }

                group.Add(pending);
            }

            calls.AddRange(bySlot.Values);
        }
        else
        {
            calls.Add(batch);
        }

        var sends = new List<Task>(calls.Count);
        foreach (var group in calls)
        {
            for (var start = 0; start < group.Count; start += MaxTransactionsPerCall)
            {
                sends.Add(SendCallAsync(start == 0 && group.Count <= MaxTransactionsPerCall ? group : group.GetRange(start, Math.Min(MaxTransactionsPerCall, group.Count - start))));
            }
        }

        await Task.WhenAll(sends);
    }

    private async Task SendCallAsync(List<PendingApply> call)
    {
        var argCount = 4;
        foreach (var pending in call)
        {
            var command = pending.Command;
            argCount += 12 + (command.Writes.Count * 2) + command.Deletes.Count;
        }

        var keys = new RedisKey[call.Count * 3];
        var args = new RedisValue[argCount];
        args[0] = _time.GetUtcNow().ToUnixTimeMilliseconds();
        args[1] = _replayWindowMs;
        args[2] = _clockSkewMs;
        args[3] = _recordTtlSeconds;
        var a = 4;
        for (var t = 0; t < call.Count; t++)
        {
            var command = call[t].Command;
            var tag = HashTag(command.MemberId);
            keys[t * 3] = tag + ":s";
            keys[(t * 3) + 1] = $"{tag}:tx:{command.TransactionId}";
            keys[(t * 3) + 2] = tag + ":p";
            args[a++] = command.TransactionId;
            args[a++] = command.ExpectedVersion;
            args[a++] = command.BalanceDelta;
            args[a++] = command.Record;
            args[a++] = command.Entry;
            args[a++] = command.OccurredAtMs;
            args[a++] = command.LedgerChecked ? 1 : 0;
            args[a++] = command.NewVersion;
            args[a++] = command.NewBalance;
            args[a++] = command.RequiredAvailable;
            args[a++] = command.Writes.Count;
            foreach (var (field, value) in command.Writes)
            {
                args[a++] = field;
                args[a++] = value;
            }

            args[a++] = command.Deletes.Count;
            foreach (var field in command.Deletes)
            {
                args[a++] = field;
            }
        }

        RedisResult[] replies;
        try
        {
            _applyBatchSize.Observe(call.Count);
            var started = Stopwatch.GetTimestamp();
            replies = (RedisResult[])(await EvaluateApplyAsync(keys, args))!;
            _applyDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        catch (RedisServerException) when (call.Count > 1)
        {
            // A script error stops the script where it happened, keeping what it applied before: resend each
            // transaction alone, so the ones applied get their replay (and their pending entry committed) and only
            // the one at fault fails.
            foreach (var pending in call)
            {
                await SendCallAsync([pending]);
            }

            return;
        }
        catch (Exception ex)
        {
            foreach (var pending in call)
            {
                pending.Fail(ex);
            }

            return;
        }

        for (var t = 0; t < call.Count; t++)
        {
            ApplyReply reply;
            try
            {
                reply = Parse((RedisResult[])replies[t]!);
            }
            catch (Exception ex) when (ex is InvalidCastException or FormatException or InvalidOperationException or OverflowException)
            {
                // A state hash this server cannot read (written by hand, by another version): the hot state is at
                // fault, not the request, and the call is refused as when Redis fails.
                call[t].Fail(new RedisException($"The hot state of member {call[t].Command.MemberId} is unreadable: {ex.Message}", ex));
                continue;
            }

            call[t].Settle(reply);
        }
    }

    private async Task<RedisResult> EvaluateApplyAsync(RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await _redis.Database.ScriptEvaluateAsync(ApplyScriptSha1, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // Redis does not know the script yet (first call, restart, flush): this overload loads it.
            return await _redis.Database.ScriptEvaluateAsync(ApplyScript, keys, args);
        }
    }

    private static ApplyReply Parse(RedisResult[] reply) => ((string?)reply[0]) switch
    {
        "A" => new ApplyReply(ApplyOutcome.Applied),
        "R" => new ApplyReply(ApplyOutcome.Replay, Record: (byte[]?)reply[1], PendingEntry: reply[2].IsNull ? null : (byte[]?)reply[2]),
        "M" => new ApplyReply(ApplyOutcome.Missing),
        "L" => new ApplyReply(ApplyOutcome.CheckLedger),
        "C" => new ApplyReply(ApplyOutcome.Conflict, Snapshot: MemberFields.Parse(Pairs(reply, 1))),
        "I" => new ApplyReply(ApplyOutcome.Insufficient, Balance: (long)reply[1], Held: (long)reply[2]),
        var other => throw new InvalidOperationException($"Unexpected reply '{other}' from the apply script."),
    };

    /// <summary>Loads a member's state computed from the ledger.</summary>
    /// <param name="replace">Rebuild: overwrite what Redis holds (refused while entries are pending).</param>
    /// <returns>The snapshot now in Redis when this call loaded it; null when a state was already present, or (rebuild) entries are pending.</returns>
    public async Task<MemberSnapshot?> LoadAsync(string memberId, MemberLoad load, bool replace)
    {
        var tag = HashTag(memberId);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        RedisKey[] keys = [tag + ":s", tag + ":p"];
        // A fresh version, as every change writes: no snapshot taken before this load can carry it.
        var version = NewVersion();
        var args = new List<RedisValue> { replace ? 1 : 0, load.HasHistory ? now : 0 };
        args.AddRange(MemberFields.Serialize(load.State, version, load.Sequence, load.ChangeId));

        var started = Stopwatch.GetTimestamp();
        var result = await _redis.Database.ScriptEvaluateAsync(LoadScript, keys, [.. args]);
        _loadDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return (int)result == 1 ? new MemberSnapshot(version, load.State, load.Sequence, load.ChangeId) : null;
    }

    public async Task<MemberSnapshot?> ReadAsync(string memberId)
    {
        var fields = await _redis.Database.HashGetAllAsync(HashTag(memberId) + ":s");
        return fields.Length == 0 ? null : MemberFields.Parse(fields.Select(f => new KeyValuePair<string, RedisValue>(f.Name!, f.Value)));
    }

    /// <summary>Forgets a member's hot state (its transaction records stay). Used by operators and tests of recovery.</summary>
    public Task<bool> ForgetStateAsync(string memberId) => _redis.Database.KeyDeleteAsync(HashTag(memberId) + ":s");

    /// <summary>Forgets a transaction the ledger refused (its id belongs to another one): its answer and pending entry.</summary>
    public async Task DiscardAsync(string memberId, string transactionId)
    {
        var tag = HashTag(memberId);
        await _redis.Database.KeyDeleteAsync($"{tag}:tx:{transactionId}");
        await _redis.Database.HashDeleteAsync(tag + ":p", transactionId);
    }

    /// <summary>Drops the pending copy of an entry the ledger now holds. Fire-and-forget: a leftover is recovered harmlessly.</summary>
    public void AcknowledgeCommitted(string memberId, string transactionId) =>
        _ = _redis.Database.HashDeleteAsync(HashTag(memberId) + ":p", transactionId, CommandFlags.FireAndForget);

    /// <summary>The pending copies of the member's entries, as the apply stored them (serialized ledger entries).</summary>
    public async Task<IReadOnlyList<byte[]>> ReadPendingAsync(string memberId)
    {
        var fields = await _redis.Database.HashGetAllAsync(HashTag(memberId) + ":p");
        return fields.Select(field => (byte[])field.Value!).ToList();
    }

    /// <summary>Members with entries still waiting for their ledger commit, across every primary.</summary>
    public async IAsyncEnumerable<string> ScanMembersWithPendingAsync()
    {
        var pattern = $"{_prefix}:{{m:*}}:p";
        var multiplexer = _redis.Multiplexer;
        foreach (var endpoint in multiplexer.GetEndPoints())
        {
            var server = multiplexer.GetServer(endpoint);
            if (!server.IsConnected || server.IsReplica)
            {
                continue;
            }

            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 500))
            {
                var text = (string)key!;
                var start = _prefix.Length + 4;
                yield return text[start..^3];
            }
        }
    }

    /// <summary>The members a primary holds, with the sequence of each one's last change, a page at a time.</summary>
    public async IAsyncEnumerable<IReadOnlyList<(string MemberId, long Sequence)>> MemberSequencesOnAsync(IServer server)
    {
        var database = _redis.Database;
        var start = _prefix.Length + 4;
        var page = new List<RedisKey>(500);
        await foreach (var key in server.KeysAsync(pattern: $"{_prefix}:{{m:*}}:s", pageSize: 500))
        {
            page.Add(key);
            if (page.Count == 500)
            {
                yield return await SequencesAsync(database, page, start);
                page.Clear();
            }
        }

        if (page.Count > 0)
        {
            yield return await SequencesAsync(database, page, start);
        }
    }

    private static async Task<IReadOnlyList<(string MemberId, long Sequence)>> SequencesAsync(IDatabase database, List<RedisKey> keys, int start)
    {
        var values = await Task.WhenAll(keys.Select(k => database.HashGetAsync(k, MemberFields.Sequence)));
        return [.. keys.Select((k, i) => (((string)k!)[start..^3], values[i].IsNull ? 0L : (long)values[i]))];
    }

    /// <summary>The primaries the client knows now, by endpoint.</summary>
    public IReadOnlyList<IServer> Primaries() =>
        [.. _redis.Multiplexer.GetServers().Where(server => server.IsConnected && !server.IsReplica)];

    public async Task<bool> PingAsync()
    {
        await _redis.Database.PingAsync();
        return true;
    }

    private string HashTag(string memberId) => $"{_prefix}:{{m:{memberId}}}";

    private static IEnumerable<KeyValuePair<string, RedisValue>> Pairs(RedisResult[] reply, int start)
    {
        for (var i = start; i + 1 < reply.Length; i += 2)
        {
            yield return new KeyValuePair<string, RedisValue>((string)reply[i]!, (RedisValue)reply[i + 1]);
        }
    }

    /// <summary>A Lua script embedded from HotState/Scripts.</summary>
    internal static string ReadScript(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("HotState." + name)
            ?? throw new InvalidOperationException($"Embedded script {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
