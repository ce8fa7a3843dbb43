using Prometheus;

namespace LoyaltyCore.Server.Observability;

/// <summary>
/// Latency and program KPIs in Prometheus conventions. Labels are bounded sets (method, status, channel, tier,
/// script), never a member or transaction id.
/// </summary>
internal sealed class LoyaltyMetrics
{
    private static readonly double[] LatencyBuckets = Histogram.ExponentialBuckets(0.0001, 2, 18);

    // Label children looked up once per label set: WithLabels allocates and hashes on every call.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, GrpcMethodMetrics> _grpcMethods = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Channel, string Tier), (Counter.Child Scored, Counter.Child Issued)> _scored = new();

    /// <summary>
    /// Of the .NET meters, exports only the runtime's (GC, thread pool, JIT) and Npgsql's (pool, commands). The ASP.NET
    /// Core, Kestrel and Redis client meters record on every request, and bridging each of those measurements cost about
    /// 7% of the server's CPU under load; the <c>grpc_server_*</c> metrics already cover what they tell.
    /// Takes effect before the first scrape.
    /// </summary>
    public static void ConfigureExports() =>
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = static instrument => instrument.Meter.Name is "System.Runtime" or "Npgsql");

    /// <summary>The gRPC metrics of one method (<c>/package.Service/Method</c>), created on its first call.</summary>
    public GrpcMethodMetrics Grpc(string method, string type) =>
        _grpcMethods.GetOrAdd(method, static (key, state) => new GrpcMethodMetrics(state.Metrics, key, state.Type), (Metrics: this, Type: type));

    /// <summary>The scored-transactions and points-issued counters of one channel and tier.</summary>
    public (Counter.Child Scored, Counter.Child Issued) Scoring(string channel, string tier) =>
        _scored.GetOrAdd((channel, tier), static (key, metrics) => (metrics.TransactionsScored.WithLabels(key.Channel, key.Tier), metrics.PointsIssued.WithLabels(key.Channel, key.Tier)), this);

    // gRPC server metrics as the grpc-ecosystem Prometheus middleware names them, so standard dashboards and alerts
    // apply; codes are gRPC's names (INVALID_ARGUMENT), unary and streaming calls alike.
    public Counter GrpcStarted { get; } = Metrics.CreateCounter(
        "grpc_server_started_total",
        "RPCs started on the server.",
        new CounterConfiguration { LabelNames = ["grpc_type", "grpc_service", "grpc_method"] });

    public Counter GrpcHandled { get; } = Metrics.CreateCounter(
        "grpc_server_handled_total",
        "RPCs completed on the server, by gRPC status code (a call its deadline cut off is DEADLINE_EXCEEDED).",
        new CounterConfiguration { LabelNames = ["grpc_type", "grpc_service", "grpc_method", "grpc_code"] });

    public Histogram GrpcHandling { get; } = Metrics.CreateHistogram(
        "grpc_server_handling_seconds",
        "Time from an RPC's start to its status (a stream: its whole life).",
        new HistogramConfiguration { LabelNames = ["grpc_type", "grpc_service", "grpc_method"], Buckets = LatencyBuckets });

    public Counter GrpcReceived { get; } = Metrics.CreateCounter(
        "grpc_server_msg_received_total",
        "Request messages received, streamed ones each counted.",
        new CounterConfiguration { LabelNames = ["grpc_type", "grpc_service", "grpc_method"] });

    public Counter GrpcSent { get; } = Metrics.CreateCounter(
        "grpc_server_msg_sent_total",
        "Response messages sent, streamed ones each counted.",
        new CounterConfiguration { LabelNames = ["grpc_type", "grpc_service", "grpc_method"] });

    public Counter TransactionsScored { get; } = Metrics.CreateCounter(
        "loyalty_transactions_scored_total",
        "Purchases scored (replays excluded), by channel and tier after the purchase.",
        new CounterConfiguration { LabelNames = ["channel", "tier"] });

    public Counter PointsIssued { get; } = Metrics.CreateCounter(
        "loyalty_points_issued_total",
        "Points earned by purchases, by channel and tier after the purchase.",
        new CounterConfiguration { LabelNames = ["channel", "tier"] });

    public Counter PointsRedeemed { get; } = Metrics.CreateCounter(
        "loyalty_points_redeemed_total",
        "Points spent, by channel and tier.",
        new CounterConfiguration { LabelNames = ["channel", "tier"] });

    public Counter SpendMinor { get; } = Metrics.CreateCounter(
        "loyalty_spend_minor_units_total",
        "Revenue of scored purchases in minor currency units, by channel.",
        new CounterConfiguration { LabelNames = ["channel"] });

    public Counter TierUpgrades { get; } = Metrics.CreateCounter(
        "loyalty_tier_upgrades_total",
        "Purchases that moved a member up a tier, by tier reached.",
        new CounterConfiguration { LabelNames = ["tier"] });

    public Counter MembersEnrolled { get; } = Metrics.CreateCounter(
        "loyalty_members_enrolled_total",
        "Members enrolled (explicitly or by a first purchase).");

    public Counter Replays { get; } = Metrics.CreateCounter(
        "loyalty_transaction_replays_total",
        "Retries answered from an earlier result, by where the result came from.",
        new CounterConfiguration { LabelNames = ["source"] });

    public Counter StateConflicts { get; } = Metrics.CreateCounter(
        "loyalty_hot_state_conflicts_total",
        "Evaluations redone because the member's state changed underneath them.");

    public Histogram LedgerCommitDuration { get; } = Metrics.CreateHistogram(
        "loyalty_ledger_commit_duration_seconds",
        "Time to write and commit one batch of ledger rows.",
        new HistogramConfiguration { Buckets = LatencyBuckets });

    public Histogram LedgerRowsPerCommit { get; } = Metrics.CreateHistogram(
        "loyalty_ledger_rows_per_commit",
        "Ledger rows written by one commit (group commit shares commits between concurrent requests).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 12) });

    public Counter LedgerCommitFailures { get; } = Metrics.CreateCounter(
        "loyalty_ledger_commit_failures_total",
        "Batches whose commit failed; their entries stay pending in Redis until recovered.");

    public Gauge LedgerQueueDepth { get; } = Metrics.CreateGauge(
        "loyalty_ledger_queue_depth",
        "Ledger rows waiting for a commit.");

    public Counter LedgerPredecessorWaits { get; } = Metrics.CreateCounter(
        "loyalty_ledger_predecessor_waits_total",
        "Times a ledger row was put back because the member's change before it was not committed yet, by where that change was: the same batch (batch), committing on this server (local), or not known here (ledger: another server's, asked again after a pause).",
        new CounterConfiguration { LabelNames = ["wait"] });

    public Counter PendingEntriesRecovered { get; } = Metrics.CreateCounter(
        "loyalty_ledger_pending_recovered_total",
        "Entries written to the ledger by recovery after their request could not commit them.");

    public Histogram RedisScriptDuration { get; } = Metrics.CreateHistogram(
        "loyalty_redis_script_duration_seconds",
        "Round trip of one Lua script call, by script.",
        new HistogramConfiguration { LabelNames = ["script"], Buckets = LatencyBuckets });

    public Histogram RedisApplyBatchSize { get; } = Metrics.CreateHistogram(
        "loyalty_redis_apply_transactions_per_call",
        "Transactions sent in one call of the apply script (concurrent transactions share a call; a call that failed counts too).",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(1, 2, 8) });

    public Gauge CampaignBudgetRemaining { get; } = Metrics.CreateGauge(
        "loyalty_campaign_budget_remaining_points",
        "Points a campaign may still award in total.",
        new GaugeConfiguration { LabelNames = ["campaign"] });

    public Gauge RewardStockRemaining { get; } = Metrics.CreateGauge(
        "loyalty_reward_stock_remaining",
        "Units of a reward with limited stock still to claim, by reward id (the catalogue's ids).",
        new GaugeConfiguration { LabelNames = ["reward"] });

    public Counter RewardsClaimed { get; } = Metrics.CreateCounter(
        "loyalty_rewards_claimed_total",
        "Rewards claimed from the catalogue (ScoringService.RedeemReward, replays excluded), by reward id.",
        new CounterConfiguration { LabelNames = ["reward"] });

    public Counter PointsExpired { get; } = Metrics.CreateCounter(
        "loyalty_points_expired_total",
        "Points the expiry run removed from balances (lots past their expiry).");

    public Gauge PointsOutstanding { get; } = Metrics.CreateGauge(
        "loyalty_points_outstanding",
        "The program's liability in points: every point credited less every point debited, from the ledger's KPI rollups (every server exports the same value).");

    public Counter OffersShown { get; } = Metrics.CreateCounter(
        "loyalty_partner_offers_shown_total",
        "Partner offers listed to members (MemberService.ListOffers), by partner and offer.",
        new CounterConfiguration { LabelNames = ["partner", "offer"] });

    public Counter OffersActivated { get; } = Metrics.CreateCounter(
        "loyalty_partner_offers_activated_total",
        "Partner offers activated by members (replays excluded), by partner and offer.",
        new CounterConfiguration { LabelNames = ["partner", "offer"] });

    public Counter OffersConverted { get; } = Metrics.CreateCounter(
        "loyalty_partner_offers_converted_total",
        "Conversions partners reported (replays excluded), by partner and offer.",
        new CounterConfiguration { LabelNames = ["partner", "offer"] });

    public Counter PartnerPointsFunded { get; } = Metrics.CreateCounter(
        "loyalty_partner_points_funded_total",
        "Points partners funded (conversions and direct awards, replays excluded), by partner and offer (direct for awards).",
        new CounterConfiguration { LabelNames = ["partner", "offer"] });

    public Counter RulePoints { get; } = Metrics.CreateCounter(
        "loyalty_rule_points_total",
        "Points awarded per rule (base earn, tier and membership multipliers, campaign rules, objective steps, referral).",
        new CounterConfiguration { LabelNames = ["rule"] });

    public Counter ObjectiveSteps { get; } = Metrics.CreateCounter(
        "loyalty_objective_steps_reached_total",
        "Members reaching an objective step (a share of their reference revenue), by step rule.",
        new CounterConfiguration { LabelNames = ["step"] });

    public Counter MembershipsSold { get; } = Metrics.CreateCounter(
        "loyalty_memberships_sold_total",
        "Paid memberships bought or extended, by membership.",
        new CounterConfiguration { LabelNames = ["membership"] });

    public Counter Returns { get; } = Metrics.CreateCounter(
        "loyalty_returns_total",
        "Returns of purchased goods (replays excluded), by channel.",
        new CounterConfiguration { LabelNames = ["channel"] });

    public Counter PointsReturned { get; } = Metrics.CreateCounter(
        "loyalty_points_returned_total",
        "Points returns took back (what the returned goods had earned, written-off points included), by channel.",
        new CounterConfiguration { LabelNames = ["channel"] });

    public Counter PointsWrittenOff { get; } = Metrics.CreateCounter(
        "loyalty_points_written_off_total",
        "Points returns could not take back because they were spent (returns.negativeBalance clamp).");

    public Counter SpendReturnedMinor { get; } = Metrics.CreateCounter(
        "loyalty_returned_spend_minor_units_total",
        "Revenue of returned goods in minor currency units, by channel.",
        new CounterConfiguration { LabelNames = ["channel"] });

    public Counter Holds { get; } = Metrics.CreateCounter(
        "loyalty_holds_total",
        "Holds at the till (replays excluded), by what happened to them: authorized, captured, voided, expired.",
        new CounterConfiguration { LabelNames = ["outcome"] });

    public Counter PointsAdjusted { get; } = Metrics.CreateCounter(
        "loyalty_points_adjusted_total",
        "Points credited or debited by hand (SupportService.AdjustPoints, replays excluded), by direction (credit, debit) and reason.",
        new CounterConfiguration { LabelNames = ["direction", "reason"] });

    public Counter Adjustments { get; } = Metrics.CreateCounter(
        "loyalty_adjustments_total",
        "Adjustments made by hand (replays excluded), by direction (credit, debit, forced_debit) and reason.",
        new CounterConfiguration { LabelNames = ["direction", "reason"] });

    public Counter PointsResetAtReview { get; } = Metrics.CreateCounter(
        "loyalty_points_reset_at_review_total",
        "Points tier reviews took from balances (tierQualification.reviewReset).");

    public Counter EventsRecorded { get; } = Metrics.CreateCounter(
        "loyalty_events_recorded_total",
        "Member events recorded (replays excluded), by event name: the standard ones and those the program declares.",
        new CounterConfiguration { LabelNames = ["event"] });

    public Counter EventPointsIssued { get; } = Metrics.CreateCounter(
        "loyalty_event_points_issued_total",
        "Points earned by member events, by event name.",
        new CounterConfiguration { LabelNames = ["event"] });

    public Counter ReferralsRewarded { get; } = Metrics.CreateCounter(
        "loyalty_referrals_rewarded_total",
        "Referred members whose first qualifying purchase rewarded them and their referrer.");

    public Gauge ProgramInfo { get; } = Metrics.CreateGauge(
        "loyalty_program_info",
        "The active program version (value 1; a retired version's series is removed).",
        new GaugeConfiguration { LabelNames = ["program", "version"] });

    public Counter StaleStateRepairs { get; } = Metrics.CreateCounter(
        "loyalty_hot_state_stale_repairs_total",
        "Transactions Redis applied on a member state that missed a committed ledger row (after a failover), refused by the ledger, the member rebuilt and the transaction decided again.");

    public Counter FailoverReconciled { get; } = Metrics.CreateCounter(
        "loyalty_hot_state_failover_reconciled_total",
        "Members a promoted Redis primary held behind the ledger, found by the sweep after the failover and rebuilt.");

    public Gauge BuildInfo { get; } = Metrics.CreateGauge(
        "loyalty_build_info",
        "The server's version (value 1).",
        new GaugeConfiguration { LabelNames = ["version"] });

    public Gauge DependencyUp { get; } = Metrics.CreateGauge(
        "loyalty_dependency_up",
        "Whether a dependency answers this server's readiness check (1) or not (0), checked every 5 s.",
        new GaugeConfiguration { LabelNames = ["dependency"] });

    public Gauge PendingEntries { get; } = Metrics.CreateGauge(
        "loyalty_ledger_pending_entries",
        "The pending backlog: members holding entries Redis applied and the ledger has not committed yet, at this server's last recovery scan (a member's several entries count once).");

    public Gauge CampaignBudgetTotal { get; } = Metrics.CreateGauge(
        "loyalty_campaign_budget_total_points",
        "A campaign's budget (or a reward's stock) as the active program sets it.",
        new GaugeConfiguration { LabelNames = ["campaign"] });

    // Ledger-backed KPIs: every server reads the same rollups, so every server exports the same values; aggregate
    // them with max (never sum) across instances.
    public Gauge KpiMembersEnrolled { get; } = Metrics.CreateGauge("loyalty_kpi_members_enrolled", "Members enrolled.");

    public Gauge KpiMembersActive { get; } = Metrics.CreateGauge(
        "loyalty_kpi_members_active", "Members with a purchase in the window (the last N UTC days, today included).",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiMembersByTier { get; } = Metrics.CreateGauge(
        "loyalty_kpi_members_by_tier", "Members by their current tier (members with no transaction yet excluded).",
        new GaugeConfiguration { LabelNames = ["tier"] });

    public Gauge KpiMembersByRecency { get; } = Metrics.CreateGauge(
        "loyalty_kpi_members_by_recency", "Members who ever purchased, by days since their last purchase.",
        new GaugeConfiguration { LabelNames = ["since"] });

    public Gauge KpiLiability { get; } = Metrics.CreateGauge(
        "loyalty_kpi_liability", "The points outstanding at Kpi:PointCostPerThousandMinor, in major currency units (absent when not set).",
        new GaugeConfiguration { LabelNames = ["currency"] });

    public Gauge KpiPoints { get; } = Metrics.CreateGauge(
        "loyalty_kpi_points", "Points by flow (issued, redeemed, expired, returned, debited_other) over the window.",
        new GaugeConfiguration { LabelNames = ["flow", "window"] });

    public Gauge KpiRevenue { get; } = Metrics.CreateGauge(
        "loyalty_kpi_revenue", "Purchases' spend less refunds over the window, in major currency units.",
        new GaugeConfiguration { LabelNames = ["currency", "window"] });

    public Gauge KpiRevenuePreviousYear { get; } = Metrics.CreateGauge(
        "loyalty_kpi_revenue_previous_year", "Revenue over the same window a year earlier (year over year, from the ledger), in major currency units.",
        new GaugeConfiguration { LabelNames = ["currency", "window"] });

    public Gauge KpiOrdersPreviousYear { get; } = Metrics.CreateGauge(
        "loyalty_kpi_orders_previous_year", "Purchases over the same window a year earlier.",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiOrders { get; } = Metrics.CreateGauge(
        "loyalty_kpi_orders", "Purchases scored over the window.",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiRevenuePerActiveMember { get; } = Metrics.CreateGauge(
        "loyalty_kpi_revenue_per_active_member", "Revenue over the window per member active in it, in major currency units.",
        new GaugeConfiguration { LabelNames = ["currency", "window"] });

    public Gauge KpiOrdersPerActiveMember { get; } = Metrics.CreateGauge(
        "loyalty_kpi_orders_per_active_member", "Purchase frequency: orders over the window per member active in it.",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiRedemptionRate { get; } = Metrics.CreateGauge(
        "loyalty_kpi_redemption_rate", "Points redeemed / points issued over the window.",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiGenerosity { get; } = Metrics.CreateGauge(
        "loyalty_kpi_generosity", "Cost of the points issued / revenue over the window (absent without Kpi:PointCostPerThousandMinor).",
        new GaugeConfiguration { LabelNames = ["window"] });

    public Gauge KpiTransactions { get; } = Metrics.CreateGauge(
        "loyalty_kpi_transactions", "Purchases scored over the window, by channel.",
        new GaugeConfiguration { LabelNames = ["channel", "window"] });

    public Gauge KpiObjectiveSteps { get; } = Metrics.CreateGauge(
        "loyalty_kpi_objective_steps", "Objective steps of the active program reached over the window, by step rule.",
        new GaugeConfiguration { LabelNames = ["rule", "window"] });

    public Gauge KpiRewardsClaimed { get; } = Metrics.CreateGauge(
        "loyalty_kpi_rewards_claimed", "Rewards claimed over the window.",
        new GaugeConfiguration { LabelNames = ["reward", "window"] });

    public Gauge KpiOffers { get; } = Metrics.CreateGauge(
        "loyalty_kpi_offers", "Partner offers activated and converted over the window.",
        new GaugeConfiguration { LabelNames = ["partner", "offer", "event", "window"] });

    public Gauge KpiRollupLag { get; } = Metrics.CreateGauge(
        "loyalty_kpi_rollup_lag_seconds", "Age of the oldest committed ledger row the KPI rollups have not counted yet; 0 when caught up.");

    public Gauge KpiRefreshed { get; } = Metrics.CreateGauge(
        "loyalty_kpi_refreshed_timestamp_seconds", "When this server last read the KPI gauges from the rollups (Unix seconds).");

    /// <summary>Sets a labelled gauge to exactly these series: any other series it had is removed.</summary>
    public static void Publish(Gauge gauge, IEnumerable<(string[] Labels, double Value)> series)
    {
        var kept = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (labels, value) in series)
        {
            gauge.WithLabels(labels).Set(value);
            kept.Add(string.Join('\u001f', labels));
        }

        foreach (var labels in gauge.GetAllLabelValues().ToList())
        {
            if (!kept.Contains(string.Join('\u001f', labels)))
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }

    /// <summary>
    /// Drops the series of rules, objective steps, campaigns and rewards that <paramref name="program"/> no longer has,
    /// once it is active: dashboards show the running program, not every version since the process started.
    /// </summary>
    public void RetireSeriesNotIn(LoyaltyCore.Engine.Programs.LoyaltyProgram program)
    {
        var rules = program.Rules.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var steps = program.Objectives.SelectMany(o => o.Steps).Select(s => s.RuleId).ToHashSet(StringComparer.Ordinal);
        var rewards = program.Rewards.Rewards.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var budgets = program.Campaigns.Select(c => c.Id).Concat(rewards.Select(r => "reward:" + r)).ToHashSet(StringComparer.Ordinal);
        Retire(RulePoints, rules);
        Retire(ObjectiveSteps, steps);
        Retire(CampaignBudgetRemaining, budgets);
        Retire(CampaignBudgetTotal, budgets);
        Retire(RewardStockRemaining, rewards);
        Retire(RewardsClaimed, rewards);
    }

    private static void Retire<TChild>(Collector<TChild> collector, HashSet<string> kept)
        where TChild : ChildBase
    {
        foreach (var labels in collector.GetAllLabelValues().ToList())
        {
            if (!kept.Contains(labels[0]))
            {
                collector.RemoveLabelled(labels);
            }
        }
    }
}

/// <summary>One gRPC method's children of the <c>grpc_server_*</c> metrics, and its handled counter per status code.</summary>
internal sealed class GrpcMethodMetrics
{
    private static readonly string[] CodeNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    private readonly Counter.Child?[] _handled = new Counter.Child?[CodeNames.Length];
    private readonly Counter _handledCounter;
    private readonly string[] _labels;

    public GrpcMethodMetrics(LoyaltyMetrics metrics, string method, string type)
    {
        // "/loyalty.v1.ScoringService/Score" -> service "loyalty.v1.ScoringService", method "Score".
        var slash = method.LastIndexOf('/');
        var service = slash > 0 ? method[1..slash] : "unknown";
        _labels = [type, service, method[(slash + 1)..]];
        _handledCounter = metrics.GrpcHandled;
        Started = metrics.GrpcStarted.WithLabels(_labels);
        Handling = metrics.GrpcHandling.WithLabels(_labels);
        Received = metrics.GrpcReceived.WithLabels(_labels);
        Sent = metrics.GrpcSent.WithLabels(_labels);
    }

    public Counter.Child Started { get; }

    public Histogram.Child Handling { get; }

    public Counter.Child Received { get; }

    public Counter.Child Sent { get; }

    /// <summary>A method type as <c>grpc_type</c> names it.</summary>
    public static string TypeName(Grpc.Core.MethodType type) => type switch
    {
        Grpc.Core.MethodType.Unary => "unary",
        Grpc.Core.MethodType.ClientStreaming => "client_stream",
        Grpc.Core.MethodType.ServerStreaming => "server_stream",
        _ => "bidi_stream",
    };

    /// <summary>The gRPC name of a status code, as <c>grpc_code</c> carries it.</summary>
    public static string CodeName(Grpc.Core.StatusCode code) => (uint)code < (uint)CodeNames.Length ? CodeNames[(int)code] : "UNKNOWN";

    public Counter.Child Handled(Grpc.Core.StatusCode code)
    {
        var index = (uint)code < (uint)_handled.Length ? (int)code : (int)Grpc.Core.StatusCode.Unknown;
        return _handled[index] ??= _handledCounter.WithLabels(_labels[0], _labels[1], _labels[2], CodeNames[index]);
    }
}
