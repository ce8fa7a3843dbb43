using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Members;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Scoring;

/// <summary>
/// Drives one transaction to a durable answer:
/// evaluate against the member's last known state, apply atomically in Redis (one Lua call that also detects
/// retries, stale snapshots and overdrafts), then wait for the ledger commit before answering.
/// </summary>
internal sealed class TransactionProcessor(
    HotStateStore hotState,
    SnapshotCache snapshots,
    LedgerWriter writer,
    LedgerStore ledger,
    MemberDirectory members,
    MemberLocks locks,
    TimeProvider time,
    LoyaltyMetrics metrics)
{
    // Each retry follows a state change by another server on the same member; past this many, back off to the client.
    private const int MaxAttempts = 16;

    public async Task<TResponse> ProcessAsync<TResponse>(TransactionIntent<TResponse> intent, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var stripe = locks.For(intent.MemberId);
        await stripe.WaitAsync(cancellationToken);
        Decision<TResponse> decision;
        try
        {
            decision = await DecideAsync(intent, cancellationToken);
        }
        finally
        {
            stripe.Release();
        }

        // Past the decision nothing is cancelled: the answer waits for its ledger row, whatever the client does.
        if (decision.EntryToCommit is not null)
        {
            await writer.AppendAsync(decision.EntryToCommit);
        }

        if (decision.Applied is not null)
        {
            intent.Observe(decision.Applied);
        }

        return decision.Response;
    }

    private async Task<Decision<TResponse>> DecideAsync<TResponse>(TransactionIntent<TResponse> intent, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var snapshot = snapshots.Get(intent.MemberId);
        var ledgerChecked = false;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // Cancellation is honoured up to the point of change.
            cancellationToken.ThrowIfCancellationRequested();
            var prepared = snapshot is null ? null : intent.Prepare(snapshot, time.GetUtcNow().ToUnixTimeMilliseconds());
            var reply = await hotState.ApplyAsync(new ApplyCommand(
                intent.MemberId,
                intent.TransactionId,
                snapshot?.Version ?? string.Empty,
                prepared?.PointsDelta ?? 0,
                prepared?.SpendDelta ?? 0,
                prepared?.TierAfter ?? string.Empty,
                prepared?.Record ?? [],
                prepared?.EntryBytes ?? [],
                intent.OccurredAtMs,
                ledgerChecked));

            switch (reply.Outcome)
            {
                case ApplyOutcome.Applied:
                    snapshots.Set(intent.MemberId, prepared!.After with { Version = reply.Version! });
                    return new Decision<TResponse>(prepared.Response, prepared.Entry, prepared);

                case ApplyOutcome.Replay:
                    // The first attempt may still be committing (or died before it could): answer once it is durable.
                    var pending = reply.PendingEntry is null ? null : LedgerEntry.Parser.ParseFrom(reply.PendingEntry);
                    return new Decision<TResponse>(Replay(intent, reply.Record!, "hot_state"), pending, null);

                case ApplyOutcome.Conflict:
                    if (snapshot is not null)
                    {
                        metrics.StateConflicts.Inc();
                    }

                    snapshot = reply.Snapshot;
                    snapshots.Set(intent.MemberId, snapshot!);
                    break;

                case ApplyOutcome.Missing:
                    snapshots.Remove(intent.MemberId);
                    snapshot = null;
                    if (!await members.EnsureLoadedAsync(intent.MemberId, intent.Program, intent.EnrollsUnknownMember, cancellationToken))
                    {
                        throw RpcErrors.MemberNotFound(intent.MemberId);
                    }

                    break;

                case ApplyOutcome.CheckLedger:
                    var stored = await ledger.FindTransactionAsync(intent.MemberId, intent.TransactionId, cancellationToken);
                    if (stored is not null)
                    {
                        var record = new byte[stored.Fingerprint.Length + stored.Response.Length];
                        stored.Fingerprint.CopyTo(record, 0);
                        stored.Response.CopyTo(record, stored.Fingerprint.Length);
                        return new Decision<TResponse>(Replay(intent, record, "ledger"), null, null);
                    }

                    ledgerChecked = true;
                    break;

                case ApplyOutcome.Insufficient:
                    throw RpcErrors.InsufficientPoints(reply.Balance, -(prepared?.PointsDelta ?? 0));

                default:
                    throw new InvalidOperationException($"Unhandled apply outcome {reply.Outcome}.");
            }
        }

        throw new RpcException(RpcErrors.Contention);
    }

    private TResponse Replay<TResponse>(TransactionIntent<TResponse> intent, byte[] record, string source)
        where TResponse : class, IMessage<TResponse>
    {
        if (!intent.IsSameRequest(TransactionIntent<TResponse>.FingerprintOf(record)))
        {
            throw RpcErrors.TransactionIdReused(intent.TransactionId);
        }

        var response = intent.Parser.ParseFrom(TransactionIntent<TResponse>.ResponseOf(record));
        intent.MarkReplayed(response);
        metrics.Replays.WithLabels(source).Inc();
        return response;
    }
}

/// <param name="EntryToCommit">The ledger row to wait for before answering (none when the ledger already has it).</param>
/// <param name="Applied">Set when this call changed the state (not a replay), for the KPIs.</param>
internal sealed record Decision<TResponse>(TResponse Response, LedgerEntry? EntryToCommit, PreparedTransaction<TResponse>? Applied);
