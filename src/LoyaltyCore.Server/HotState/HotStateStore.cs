using System.Diagnostics;
using System.Reflection;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using Microsoft.Extensions.Options;
using Prometheus;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>A member's hot state as last seen; <see cref="Version"/> changes with every write.</summary>
internal sealed record MemberSnapshot(string Version, long Balance, long LifetimeSpendMinor, string Tier, long Purchases)
{
    public MemberState ToState() => new(Balance, LifetimeSpendMinor, Tier, Purchases);
}

/// <summary>A member's state as the ledger says it is, ready to be loaded into Redis.</summary>
internal readonly record struct MemberLoad(long Balance, long LifetimeSpendMinor, string Tier, long Purchases, long EnrolledAtMs, bool HasHistory);

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
/// <param name="Balance">Applied: the balance after; insufficient: the balance that was too low.</param>
/// <param name="Version">Applied: the state's new version.</param>
internal readonly record struct ApplyReply(
    ApplyOutcome Outcome,
    MemberSnapshot? Snapshot = null,
    byte[]? Record = null,
    byte[]? PendingEntry = null,
    long Balance = 0,
    string? Version = null);

internal readonly record struct ApplyCommand(
    string MemberId,
    string TransactionId,
    string ExpectedVersion,
    long PointsDelta,
    long SpendDelta,
    string TierAfter,
    byte[] Record,
    byte[] Entry,
    long OccurredAtMs,
    bool LedgerChecked);

internal readonly record struct StoredMember(MemberSnapshot Snapshot, long EnrolledAtMs);

/// <summary>
/// Members' balances, tiers and transaction records in Redis. Every key of a member carries the hash tag
/// <c>{m:id}</c>, so one script can touch all of them on one Redis Cluster node.
/// </summary>
internal sealed class HotStateStore
{
    private static readonly string ApplyScript = ReadScript("apply.lua");
    private static readonly string LoadScript = ReadScript("load.lua");

    private readonly RedisConnection _redis;
    private readonly LoyaltyMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly long _recordTtlSeconds;
    private readonly long _replayWindowMs;
    private readonly long _clockSkewMs;
    private readonly Histogram.Child _applyDuration;
    private readonly Histogram.Child _loadDuration;

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
    }

    public async Task<ApplyReply> ApplyAsync(ApplyCommand command)
    {
        var tag = HashTag(command.MemberId);
        RedisKey[] keys = [tag + ":s", $"{tag}:tx:{command.TransactionId}", tag + ":p"];
        RedisValue[] args =
        [
            command.TransactionId,
            command.ExpectedVersion,
            command.PointsDelta,
            command.SpendDelta,
            command.TierAfter,
            command.Record,
            command.Entry,
            _recordTtlSeconds,
            command.OccurredAtMs,
            _time.GetUtcNow().ToUnixTimeMilliseconds(),
            _replayWindowMs,
            _clockSkewMs,
            command.LedgerChecked ? 1 : 0,
        ];

        var started = Stopwatch.GetTimestamp();
        var result = await _redis.Database.ScriptEvaluateAsync(ApplyScript, keys, args);
        _applyDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);

        var reply = (RedisResult[])result!;
        return ((string?)reply[0]) switch
        {
            "A" => new ApplyReply(ApplyOutcome.Applied, Version: (string)reply[1]!, Balance: (long)reply[2]),
            "R" => new ApplyReply(ApplyOutcome.Replay, Record: (byte[]?)reply[1], PendingEntry: reply[2].IsNull ? null : (byte[]?)reply[2]),
            "M" => new ApplyReply(ApplyOutcome.Missing),
            "L" => new ApplyReply(ApplyOutcome.CheckLedger),
            "C" => new ApplyReply(ApplyOutcome.Conflict, Snapshot: new MemberSnapshot(
                (string)reply[1]!, (long)reply[2], (long)reply[3], (string?)reply[4] ?? string.Empty, (long)reply[5])),
            "I" => new ApplyReply(ApplyOutcome.Insufficient, Balance: (long)reply[1]),
            var other => throw new InvalidOperationException($"Unexpected reply '{other}' from the apply script."),
        };
    }

    /// <summary>Loads a member's state computed from the ledger.</summary>
    /// <param name="replace">Rebuild: overwrite what Redis holds (refused while entries are pending).</param>
    /// <returns>1 loaded, 0 already present, -1 refused because entries are pending.</returns>
    public async Task<int> LoadAsync(string memberId, MemberLoad load, bool replace)
    {
        var tag = HashTag(memberId);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        RedisKey[] keys = [tag + ":s", tag + ":p"];
        RedisValue[] args =
        [
            // A fresh version that no snapshot taken before this load can carry (a million writes per second apart),
            // kept under 2^53 because Redis's Lua hands integers back through doubles.
            (now / 1000 * 1_000_000) + Random.Shared.Next(1_000_000),
            load.Balance,
            load.LifetimeSpendMinor,
            load.Tier,
            load.Purchases,
            load.HasHistory ? now : 0,
            load.EnrolledAtMs,
            replace ? 1 : 0,
        ];

        var started = Stopwatch.GetTimestamp();
        var result = await _redis.Database.ScriptEvaluateAsync(LoadScript, keys, args);
        _loadDuration.Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        return (int)result;
    }

    public async Task<StoredMember?> ReadAsync(string memberId)
    {
        var values = await _redis.Database.HashGetAsync(HashTag(memberId) + ":s", ["v", "b", "s", "t", "n", "e"]);
        if (values[0].IsNull)
        {
            return null;
        }

        return new StoredMember(
            new MemberSnapshot((string)values[0]!, (long)values[1], (long)values[2], (string?)values[3] ?? string.Empty, (long)values[4]),
            (long)values[5]);
    }

    /// <summary>Forgets a member's hot state (its transaction records stay). Used by operators and tests of recovery.</summary>
    public Task<bool> ForgetStateAsync(string memberId) => _redis.Database.KeyDeleteAsync(HashTag(memberId) + ":s");

    /// <summary>Drops the pending copies of entries the ledger now holds. Fire-and-forget: a leftover is recovered harmlessly.</summary>
    public void AcknowledgeCommitted(IReadOnlyList<LedgerEntry> entries)
    {
        var database = _redis.Database;
        foreach (var entry in entries)
        {
            _ = database.HashDeleteAsync(HashTag(entry.MemberId) + ":p", entry.TransactionId, CommandFlags.FireAndForget);
        }
    }

    public async Task<IReadOnlyList<LedgerEntry>> ReadPendingAsync(string memberId)
    {
        var fields = await _redis.Database.HashGetAllAsync(HashTag(memberId) + ":p");
        var entries = new List<LedgerEntry>(fields.Length);
        foreach (var field in fields)
        {
            entries.Add(LedgerEntry.Parser.ParseFrom((byte[])field.Value!));
        }

        return entries;
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

    public async Task<bool> PingAsync()
    {
        await _redis.Database.PingAsync();
        return true;
    }

    private string HashTag(string memberId) => $"{_prefix}:{{m:{memberId}}}";

    private static string ReadScript(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("HotState." + name)
            ?? throw new InvalidOperationException($"Embedded script {name} is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
