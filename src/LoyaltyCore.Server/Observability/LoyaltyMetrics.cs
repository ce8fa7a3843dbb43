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
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Method, Grpc.Core.StatusCode Code), Histogram.Child> _grpcDurations = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string Channel, string Tier), (Counter.Child Scored, Counter.Child Issued)> _scored = new();

    /// <summary>
    /// Of the .NET meters, exports only the runtime's (GC, thread pool, JIT) and Npgsql's (pool, commands). The ASP.NET
    /// Core, Kestrel and Redis client meters record on every request, and bridging each of those measurements cost about
    /// 7% of the server's CPU under load; <c>loyalty_grpc_request_duration_seconds</c> already covers what they tell.
    /// Takes effect before the first scrape.
    /// </summary>
    public static void ConfigureExports() =>
        Metrics.ConfigureMeterAdapter(options => options.InstrumentFilterPredicate = static instrument => instrument.Meter.Name is "System.Runtime" or "Npgsql");

    public Histogram.Child GrpcDuration(string method, Grpc.Core.StatusCode code) =>
        _grpcDurations.GetOrAdd((method, code), static (key, histogram) => histogram.WithLabels(key.Method, key.Code.ToString()), GrpcRequestDuration);

    /// <summary>The scored-transactions and points-issued counters of one channel and tier.</summary>
    public (Counter.Child Scored, Counter.Child Issued) Scoring(string channel, string tier) =>
        _scored.GetOrAdd((channel, tier), static (key, metrics) => (metrics.TransactionsScored.WithLabels(key.Channel, key.Tier), metrics.PointsIssued.WithLabels(key.Channel, key.Tier)), this);

    public Histogram GrpcRequestDuration { get; } = Metrics.CreateHistogram(
        "loyalty_grpc_request_duration_seconds",
        "Time to answer a gRPC call, by method and status code.",
        new HistogramConfiguration { LabelNames = ["method", "code"], Buckets = LatencyBuckets });

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
        "The program's liability in points: the sum of every ledger row's points (all balances), read from the ledger every Expiry:LiabilityRefreshInterval.");

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
        "The active program version (value 1).",
        new GaugeConfiguration { LabelNames = ["program", "version"] });
}
