using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// A member activates a partner's offer, which also shares their id with the partner. An offer the member may not use
/// on the snapshot is sent as a refusal, so a retry of an applied activation replays whatever the offer became since.
/// </summary>
internal sealed class OfferActivationIntent(ActivateOfferRequest request, OfferTerms terms, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<ActivateOfferResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.OfferActivation, request)
{
    private RpcException? _refusal;

    public override MessageParser<ActivateOfferResponse> Parser => ActivateOfferResponse.Parser;

    protected override PreparedTransaction<ActivateOfferResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var now = DateTimeOffset.FromUnixTimeMilliseconds(recordedAtMs);
        var response = new ActivateOfferResponse { TransactionId = TransactionId, PartnerId = terms.Offer.PartnerId, OfferId = terms.Offer.OfferId };
        var tier = Program.TierPolicy.Current(state, Program.Calendar.LocalTime(now)).Tier.Id;
        if (terms.Check(state, tier, null, now) is not OfferBlock.None and var block)
        {
            _refusal = new RpcException(new Status(StatusCode.FailedPrecondition, $"Offer '{terms.Offer.OfferId}' cannot be activated: {OfferTerms.Why(block)}."));
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        var entry = NewEntry(0, recordedAtMs, state.Tier, state.Balance);
        entry.RefersTo = $"{terms.Offer.PartnerId}/{terms.Offer.OfferId}";
        entry.RuleIds = terms.RuleId;
        entry.Changes = new StateChanges
        {
            Sets = { [terms.ActivationKey] = "1", [OfferTerms.LinkKey(terms.Offer.PartnerId)] = "1" },
        };
        return Complete(response, entry, 0, sets: [new(terms.ActivationKey, "1"), new(OfferTerms.LinkKey(terms.Offer.PartnerId), "1")], requiredAvailable: 0);
    }

    public override void MarkReplayed(ActivateOfferResponse response) => response.Replayed = true;

    public override RpcException Insufficient(long balance, long held, PreparedTransaction<ActivateOfferResponse>? prepared) =>
        _refusal ?? new RpcException(new Status(StatusCode.FailedPrecondition, "The offer cannot be activated."));

    public override void Observe(PreparedTransaction<ActivateOfferResponse> prepared) =>
        metrics.OffersActivated.WithLabels(terms.Offer.PartnerId, terms.Offer.OfferId).Inc();
}
