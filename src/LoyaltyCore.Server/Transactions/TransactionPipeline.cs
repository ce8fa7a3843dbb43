using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Rules;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;
using LoyaltyCore.Server.Transactions.Intents;

namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// Drives one transaction of any kind (its intent) to a durable answer: evaluate against the member's last known
/// state, apply atomically in Redis (batched with concurrent transactions into one script call, which also detects
/// retries, stale snapshots and overdrafts), then wait for the group-committed ledger row before answering.
/// </summary>
internal sealed partial class TransactionPipeline(
    HotStateStore hotState,
    SnapshotCache snapshots,
    LedgerStore ledger,
    MemberDirectory members,
    MemberLocks locks,
    CampaignBudgets budgets,
    PipelineProbes probes,
    TimeProvider time,
    LoyaltyMetrics metrics,
    ILogger<TransactionPipeline> logger)
{
    // Each retry follows a state change by another server on the same member; past this many, back off to the client.
    private const int MaxAttempts = 16;

    // Attempts a transaction may be chained behind others (see DecideAsync) before it waits for its own reply.
    private const int ChainedAttempts = 2;

    public async Task<TResponse> ProcessAsync<TResponse>(TransactionIntent<TResponse> intent, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        if (probes.Finished is not { } finished)
        {
            return await RunAsync(intent, cancellationToken);
        }

        try
        {
            var response = await RunAsync(intent, cancellationToken);
            finished(intent.TransactionId, null);
            return response;
        }
        catch (Exception ex)
        {
            finished(intent.TransactionId, ex);
            throw;
        }
    }

    /// <param name="repaired">The member was just rebuilt from the ledger after a stale apply: a second one is not tried.</param>
    private async Task<TResponse> RunAsync<TResponse>(TransactionIntent<TResponse> intent, CancellationToken cancellationToken, bool repaired = false)
        where TResponse : class, IMessage<TResponse>
    {
        probes.Accepted?.Invoke(intent.MemberId, intent.TransactionId);
        if (probes.BeforeApply is { } beforeApply)
        {
            await beforeApply(intent.TransactionId, cancellationToken);
        }

        var decision = await DecideAsync(intent, cancellationToken);

        // Past the decision nothing is cancelled: the answer waits for its ledger row, whatever the client does.
        if (decision.EntryToCommit is { } entry)
        {
            if (probes.BeforeCommit is { } beforeCommit)
            {
                await beforeCommit(intent.TransactionId, cancellationToken);
            }

            try
            {
                using var committing = Tracing.Source.StartActivity(Tracing.LedgerCommit);
                await members.CommitAsync(entry, mayExist: decision.Applied is null);
            }
            catch (LedgerConflictException stale) when (stale.StaleSequence && !repaired)
            {
                // Redis applied this on a state that missed a committed row (a replica promoted before it had the
                // member's last writes). Nothing was recorded: rebuild the member from the ledger and decide again.
                metrics.StaleStateRepairs.Inc();
                await members.RepairAfterConflictAsync(intent.MemberId, intent.TransactionId, intent.ActiveProgram);
                // The refused change's budget draws go back (it was never recorded).
                await ReturnBudgetsAsync(entry.CampaignDraws.Where(d => d.Points > 0)
                    .GroupBy(d => d.CampaignId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(d => d.Points), StringComparer.Ordinal));
                if (await ledger.FindTransactionAsync(intent.MemberId, intent.TransactionId, CancellationToken.None) is { } stored)
                {
                    // A retry of a change the ledger holds, whose record the failover lost: answered from the ledger.
                    return Replay(intent, RecordOf(stored), "ledger");
                }

                return await RunAsync(intent, cancellationToken, repaired: true);
            }
            catch (LedgerConflictException conflict) when (conflict.StaleSequence)
            {
                await members.RepairAfterConflictAsync(intent.MemberId, intent.TransactionId, intent.ActiveProgram);
                throw new RpcException(RpcErrors.Contention);
            }
            catch (LedgerConflictException)
            {
                // The id was reused with other content after Redis had forgotten the first use, so Redis applied it:
                // undo that by recomputing the member from the ledger, and refuse the call as any reuse is refused.
                await members.RepairAfterConflictAsync(intent.MemberId, intent.TransactionId, intent.ActiveProgram);
                throw RpcErrors.TransactionIdReused(intent.TransactionId);
            }

            await RewardReferrerAsync(entry, intent.ActiveProgram);
            if (decision.EnrolledMember)
            {
                await RewardEnrolmentAsync(intent.MemberId, intent.ActiveProgram);
            }
        }

        if (decision.Applied is not null)
        {
            if (decision.Applied.BudgetReturns is { Count: > 0 } returns)
            {
                // Only once committed, and only by the call that applied it (a replay gives nothing back): a crash
                // in between leaves the points unspent, never spent twice.
                try
                {
                    await ReturnBudgetsAsync(returns.ToDictionary(r => r.CampaignId, r => r.Points, StringComparer.Ordinal));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogBudgetReturnFailed(logger, ex, intent.TransactionId);
                }
            }

            intent.Observe(decision.Applied);
        }

        return decision.Response;
    }

    /// <summary>Credits the referrer once the referred member's qualifying purchase is durable (idempotent per referred member).</summary>
    public async Task RewardReferrerAsync(LedgerEntry entry, LoyaltyProgram program)
    {
        if (string.IsNullOrEmpty(entry.ReferrerId) || entry.ReferrerPoints <= 0)
        {
            return;
        }

        try
        {
            await ProcessAsync(new ReferralIntent(entry.ReferrerId, entry.MemberId, entry.ReferrerPoints, entry.OccurredAtUnixMs, program), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The referred member's purchase stands; the reward is retried with that purchase's retry or recovery.
            LogReferralFailed(logger, ex, entry.ReferrerId, entry.MemberId);
        }
    }

    /// <summary>
    /// Fires the program's <c>enrolled</c> rules for a member this server just enrolled, as a transaction of its own
    /// (id <c>enrolled:&lt;member&gt;</c>, so at most once per member).
    /// </summary>
    /// <returns>What the enrolment earned; null when the program gives nothing for it or the reward failed.</returns>
    public async Task<RecordEventResponse?> RewardEnrolmentAsync(string memberId, LoyaltyProgram program)
    {
        if (!program.HasEventRules(EventNames.Enrolled))
        {
            return null;
        }

        var request = new RecordEventRequest
        {
            TransactionId = ServerTransactionIds.Enrolled + memberId,
            MemberId = memberId,
            Event = EventNames.Enrolled,
            OccurredAt = Timestamp.FromDateTimeOffset(time.GetUtcNow()),
        };
        try
        {
            return await ProcessAsync(new EventIntent(request, program, metrics), CancellationToken.None);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The enrolment stands; its bonus is lost to this failure (logged), as a referral reward can be.
            LogEnrolmentRewardFailed(logger, ex, memberId);
            return null;
        }
    }

    private async Task<Decision<TResponse>> DecideAsync<TResponse>(TransactionIntent<TResponse> intent, CancellationToken cancellationToken)
        where TResponse : class, IMessage<TResponse>
    {
        var stripe = locks.For(intent.MemberId);
        var ledgerChecked = false;
        var enrolledNow = false;
        var load = false;
        CachedSnapshot? observed = null;
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            // Cancellation is honoured up to the point of change.
            cancellationToken.ThrowIfCancellationRequested();
            await stripe.WaitAsync(cancellationToken);
            var held = true;
            try
            {
                if (load)
                {
                    var loaded = await members.EnsureLoadedAsync(intent.MemberId, intent.ActiveProgram, intent.EnrollsUnknownMember, cancellationToken);
                    if (loaded == MemberDirectory.Load.NotEnrolled)
                    {
                        throw RpcErrors.MemberNotFound(intent.MemberId);
                    }

                    // The load left its snapshot (unless another call loaded the member first): apply on it directly.
                    enrolledNow |= loaded == MemberDirectory.Load.EnrolledNow;
                    load = false;
                }

                // The state the last conflict answered with serves when the cache keeps none (or is switched off).
                var basis = snapshots.Get(intent.MemberId) ?? observed;
                observed = null;
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                var prepared = basis is null ? null : intent.Prepare(basis.Snapshot, now, null);
                Dictionary<string, long>? drawn = null;
                if (prepared is { BudgetDraws.Count: > 0 })
                {
                    (prepared, drawn) = await DrawBudgetsAsync(intent, basis!.Snapshot, now, prepared);
                }

                // Occurred at 0 sends the hot state to the ledger for any attempt it holds no record of.
                var occurredAtMs = intent.OccurredOnServerClock ? 0 : intent.OccurredAtMs;
                ApplyCommand command;
                MemberSnapshot? after = null;
                if (prepared is null)
                {
                    command = new ApplyCommand(intent.MemberId, intent.TransactionId, string.Empty, string.Empty, 0, 0, [], [], [], [], occurredAtMs, ledgerChecked, 0);
                }
                else
                {
                    after = MemberStateChanges.Apply(basis!.Snapshot, HotStateStore.NewVersion(), prepared.Entry.MemberSequence, prepared.Entry.ChangeId, prepared.BalanceDelta, prepared.Increments, prepared.Sets, prepared.Deletes);
                    command = new ApplyCommand(intent.MemberId, intent.TransactionId, basis.Snapshot.Version, after.Version, prepared.BalanceDelta, after.State.Balance,
                        MemberStateChanges.Writes(after, prepared.Increments, prepared.Sets), prepared.Deletes, prepared.Record, prepared.EntryBytes, occurredAtMs, ledgerChecked, prepared.RequiredAvailable);
                }

                // A change the script will apply unless the state moved (it needs no available points, or its basis
                // has them, and no ledger check is to come) is predicted, and the member's next
                // transaction is evaluated on the prediction and sent right behind it: a busy member's transactions
                // then share script calls instead of waiting for each other's reply. A transaction sent back twice
                // already is not: nothing new joins the line behind it while it is in flight, so each further attempt
                // is exposed only to what was sent before it.
                var chained = after is not null && attempt < ChainedAttempts
                    && (prepared!.RequiredAvailable == 0 || (prepared.RequiredAvailable > 0 && basis!.Snapshot.State.AvailablePoints >= prepared.RequiredAvailable))
                    && (ledgerChecked || occurredAtMs != 0);
                if (chained)
                {
                    snapshots.Predict(intent.MemberId, basis!, after!);
                }

                var applying = Tracing.Source.StartActivity(Tracing.RedisApply);
                var replyTask = hotState.ApplyAsync(command);
                if (chained)
                {
                    stripe.Release();
                    held = false;
                }

                ApplyReply reply;
                try
                {
                    reply = await replyTask;
                    applying?.SetTag(Tracing.OutcomeTag, reply.Outcome.ToString());
                }
                catch when (chained)
                {
                    snapshots.Refute(intent.MemberId, basis!, null);
                    throw;
                }
                finally
                {
                    applying?.Dispose();
                }

                if (reply.Outcome == ApplyOutcome.Applied)
                {
                    if (!chained)
                    {
                        snapshots.Set(intent.MemberId, after!);
                    }

                    return new Decision<TResponse>(prepared!.Response, prepared.Entry, prepared, enrolledNow);
                }

                if (drawn is not null)
                {
                    try
                    {
                        await ReturnBudgetsAsync(drawn);
                    }
                    catch when (chained)
                    {
                        snapshots.Refute(intent.MemberId, basis!, null);
                        throw;
                    }
                }

                switch (reply.Outcome)
                {
                    case ApplyOutcome.Replay:
                        RevertIfChained(chained, intent.MemberId, basis);

                        // The first attempt may still be committing (or died before it could): answer once it is durable.
                        var pending = reply.PendingEntry is null ? null : LedgerEntry.Parser.ParseFrom(reply.PendingEntry);
                        return new Decision<TResponse>(Replay(intent, reply.Record!, "hot_state"), pending, null);

                    case ApplyOutcome.Conflict:
                        observed = new CachedSnapshot(reply.Snapshot!, new SnapshotLineage());
                        if (basis is null)
                        {
                            snapshots.Observe(intent.MemberId, reply.Snapshot);
                        }
                        else
                        {
                            metrics.StateConflicts.Inc();
                            snapshots.Refute(intent.MemberId, basis, reply.Snapshot);
                        }

                        break;

                    case ApplyOutcome.Missing:
                        if (chained)
                        {
                            snapshots.Refute(intent.MemberId, basis!, null);
                        }

                        snapshots.Remove(intent.MemberId);
                        load = true;
                        break;

                    case ApplyOutcome.CheckLedger:
                        RevertIfChained(chained, intent.MemberId, basis);
                        var stored = await ledger.FindTransactionAsync(intent.MemberId, intent.TransactionId, cancellationToken);
                        if (stored is not null)
                        {
                            return new Decision<TResponse>(Replay(intent, RecordOf(stored), "ledger"), null, null);
                        }

                        ledgerChecked = true;
                        break;

                    case ApplyOutcome.Insufficient:
                        // Only a change its basis could not cover (or one found impossible on it) is refused, and such a
                        // change is never chained: the state is the basis, which is still what the cache holds.
                        throw intent.Insufficient(reply.Balance, reply.Held, prepared);

                    default:
                        throw new InvalidOperationException($"Unhandled apply outcome {reply.Outcome}.");
                }
            }
            finally
            {
                if (held)
                {
                    stripe.Release();
                }
            }
        }

        throw new RpcException(RpcErrors.Contention);
    }

    /// <summary>
    /// A chained change the script stopped before its version check (a replay, a ledger check): the predictions built
    /// on it are wrong, and its basis is the best guess of the state (if wrong, the next attempt learns the state).
    /// </summary>
    private void RevertIfChained(bool chained, string memberId, CachedSnapshot? basis)
    {
        if (chained)
        {
            snapshots.Refute(memberId, basis!, basis!.Snapshot);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Giving back the campaign budget points of return {TransactionId} failed; they stay unspent")]
    private static partial void LogBudgetReturnFailed(ILogger logger, Exception exception, string transactionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Enrolment reward for {MemberId} failed; the member is enrolled without it")]
    private static partial void LogEnrolmentRewardFailed(ILogger logger, Exception exception, string memberId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Referral reward for {ReferrerId} (referred {RefereeId}) failed; it is retried with the purchase's retry or recovery")]
    private static partial void LogReferralFailed(ILogger logger, Exception exception, string referrerId, string refereeId);

    /// <summary>
    /// Draws the campaign points from their budgets before the member is changed. When a budget cannot cover them,
    /// the purchase is evaluated again within what was granted and any excess goes back.
    /// </summary>
    private async Task<(PreparedTransaction<TResponse> Prepared, Dictionary<string, long> Drawn)> DrawBudgetsAsync<TResponse>(
        TransactionIntent<TResponse> intent, MemberSnapshot snapshot, long now, PreparedTransaction<TResponse> prepared)
        where TResponse : class, IMessage<TResponse>
    {
        var drawn = new Dictionary<string, long>(StringComparer.Ordinal);
        var shortfall = false;
        foreach (var draw in prepared.BudgetDraws)
        {
            var granted = await budgets.DrawAsync(intent.BudgetTotal, draw.CampaignId, draw.Points);
            drawn[draw.CampaignId] = granted;
            shortfall |= granted < draw.Points;
        }

        if (!shortfall)
        {
            return (prepared, drawn);
        }

        // Campaigns not drawn from in the first pass get no budget in the second: one freed by another's shortfall
        // must not award points it never drew.
        foreach (var campaign in intent.Program.Campaigns)
        {
            if (campaign.Budget is not null)
            {
                drawn.TryAdd(campaign.Id, 0);
            }
        }

        var limited = intent.Prepare(snapshot, now, drawn);
        foreach (var campaignId in drawn.Keys.ToList())
        {
            var used = limited.BudgetDraws.FirstOrDefault(d => d.CampaignId == campaignId).Points;
            await budgets.ReturnAsync(campaignId, drawn[campaignId] - used);
            drawn[campaignId] = used;
        }

        return (limited, drawn);
    }

    private async Task ReturnBudgetsAsync(Dictionary<string, long> drawn)
    {
        foreach (var (campaignId, points) in drawn)
        {
            await budgets.ReturnAsync(campaignId, points);
        }
    }

    /// <summary>A ledger row's answer as Redis keeps a transaction's record: fingerprint, then response.</summary>
    private static byte[] RecordOf(StoredTransaction stored)
    {
        var record = new byte[stored.Fingerprint.Length + stored.Response.Length];
        stored.Fingerprint.CopyTo(record, 0);
        stored.Response.CopyTo(record, stored.Fingerprint.Length);
        return record;
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
/// <param name="EnrolledMember">The transaction enrolled the member it was for (auto-enrolment).</param>
internal sealed record Decision<TResponse>(TResponse Response, LedgerEntry? EntryToCommit, PreparedTransaction<TResponse>? Applied, bool EnrolledMember = false);
