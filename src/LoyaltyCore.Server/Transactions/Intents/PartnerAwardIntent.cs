using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Points a partner funds: a conversion under one of its offers (from the offer's budget) or a direct award (from the
/// partner's credit). The budget is drawn before the member is changed and given back if the change does not happen,
/// so neither is ever overspent. Whatever the member may not get on the snapshot (they have not shared their id with
/// the partner, not activated the offer, reached its limit...) is sent as a refusal, so a retry of an applied award
/// replays. The answer tells the partner the points awarded, never the member's balance.
/// </summary>
internal sealed class PartnerAwardIntent<TResponse> : TransactionIntent<TResponse>
    where TResponse : class, IMessage<TResponse>
{
    private readonly PartnerAward<TResponse> _award;
    private readonly LoyaltyMetrics _metrics;
    private RpcException? _refusal;

    public PartnerAwardIntent(PartnerAward<TResponse> award, LoyaltyProgram program, LoyaltyMetrics metrics)
        : base(award.TransactionId, award.MemberId, award.OccurredAtMs, program, EntryKind.PartnerAward, award.Request)
    {
        _award = award;
        _metrics = metrics;
    }

    public override MessageParser<TResponse> Parser => _award.Parser;

    public static RpcException MemberUnknown(string partnerId, string memberId) =>
        new(new Status(StatusCode.NotFound, $"Partner '{partnerId}' knows no member '{memberId}'."));

    public override long? BudgetTotal(string budgetId) => budgetId == _award.BudgetId ? _award.BudgetTotal : base.BudgetTotal(budgetId);

    protected override PreparedTransaction<TResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        _refusal = null;
        var state = snapshot.State;
        var (local, current, review, reset) = StartDebit(state, recordedAtMs);
        var refusal = state.Counter(OfferTerms.LinkKey(_award.PartnerId)) == 0
            ? MemberUnknown(_award.PartnerId, MemberId)
            : _award.Points <= 0
                ? new RpcException(new Status(StatusCode.FailedPrecondition, "No points to award."))
                : _award.Check(state, current.Id);
        if (refusal is null && budgetLimits is not null && budgetLimits.GetValueOrDefault(_award.BudgetId) < _award.Points)
        {
            refusal = new RpcException(new Status(StatusCode.FailedPrecondition, _award.BudgetShort));
        }

        if (refusal is not null)
        {
            _refusal = refusal;
            return Refuse(_award.Answer(0), recordedAtMs, state.Tier, state.Balance);
        }

        var policy = Program.TierPolicy;
        var delta = _award.Points - reset;
        var balance = state.Balance + delta;
        var tierAfter = policy.Metric == QualificationMetric.Balance ? policy.After(state, local, current, balance) : current;
        var entry = NewEntry(delta, recordedAtMs, tierAfter.Id, balance);
        entry.RuleIds = _award.RuleId;
        entry.RefersTo = OfferTerms.PartnerReference(_award.PartnerId);
        entry.CampaignDraws.Add(new CampaignDraw { CampaignId = _award.BudgetId, Points = _award.Points });
        // The other side of the member's credit: the partner's account owes the points.
        entry.CampaignDraws.Add(new CampaignDraw { CampaignId = PartnerAccounts.Funded(_award.PartnerId), Points = _award.Points });
        var reviewKey = reset > 0 ? review : null;
        var sets = reviewKey is null && tierAfter.Id == state.Tier ? null : TierSets.Record(entry, policy, state, tierAfter, reviewKey);
        List<KeyValuePair<string, long>>? increments = null;
        if (_award.CounterKey is { } counter)
        {
            (entry.Changes ??= new StateChanges()).Increments[counter] = 1;
            increments = [new(counter, 1)];
        }

        return Complete(_award.Answer(_award.Points), entry, delta, increments, sets, draws: [new CampaignAward(_award.BudgetId, _award.Points)], requiredAvailable: 0, reset: reset, funder: _award.PartnerId);
    }

    public override void MarkReplayed(TResponse response) => _award.MarkReplayed(response);

    public override RpcException Insufficient(long balance, long held, PreparedTransaction<TResponse>? prepared) =>
        _refusal ?? new RpcException(new Status(StatusCode.FailedPrecondition, "The points cannot be awarded."));

    public override void Observe(PreparedTransaction<TResponse> prepared)
    {
        _metrics.PartnerPointsFunded.WithLabels(_award.PartnerId, _award.OfferLabel).Inc(_award.Points);
        if (_award.CounterKey is not null)
        {
            _metrics.OffersConverted.WithLabels(_award.PartnerId, _award.OfferLabel).Inc();
        }
    }
}

/// <summary>What distinguishes a conversion from a direct award, for <see cref="PartnerAwardIntent{TResponse}"/>.</summary>
/// <param name="Check">Why the member may not get the points on a state, with the tier they hold; null when they may.</param>
/// <param name="CounterKey">The member's counter the award moves by one (an offer's conversions), if any.</param>
/// <param name="OfferLabel">The offer's id for the metrics, or "direct".</param>
internal sealed record PartnerAward<TResponse>(
    IMessage Request,
    string TransactionId,
    string MemberId,
    long OccurredAtMs,
    string PartnerId,
    long Points,
    string BudgetId,
    long BudgetTotal,
    string BudgetShort,
    string RuleId,
    string? CounterKey,
    string OfferLabel,
    Func<MemberState, string, RpcException?> Check,
    Func<long, TResponse> Answer,
    MessageParser<TResponse> Parser,
    Action<TResponse> MarkReplayed)
    where TResponse : class, IMessage<TResponse>;
