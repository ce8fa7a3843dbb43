using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Server.Ledger;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>Why a member cannot use an offer now; the first reason found, in this order.</summary>
internal enum OfferBlock
{
    None,
    NotActive,
    Window,
    Tier,
    Segment,
    Membership,
    Channel,
    Limit,
}

/// <summary>
/// An offer's terms as transactions read them: who it is for, when, and what a conversion earns. The member's side of
/// an offer lives in their state: <c>k.pk:PARTNER</c> (the member shared their id with the partner),
/// <c>k.oa:PARTNER/OFFER</c> (activated) and <c>k.oc:PARTNER/OFFER</c> (conversions); '/' never appears in an id, so a
/// partner's and an offer's ids never run into each other.
/// </summary>
internal sealed class OfferTerms(StoredOffer offer)
{
    /// <summary>The proto's <c>OFFER_STATE_ACTIVE</c>.</summary>
    public const long ActiveState = 1;

    private readonly HashSet<string> _tiers = Set(offer.Tiers);
    private readonly HashSet<string> _segments = Set(offer.Segments);
    private readonly HashSet<string> _memberships = Set(offer.Memberships);
    private readonly HashSet<int> _channels = [.. Set(offer.Channels).Select(c => int.Parse(c, CultureInfo.InvariantCulture))];

    public StoredOffer Offer { get; } = offer;

    /// <summary>The shared budget the offer's points are drawn from, as campaign points are.</summary>
    public string BudgetId { get; } = BudgetPrefix(offer.PartnerId) + offer.OfferId;

    /// <summary>What every budget id of a partner's offers starts with.</summary>
    public static string BudgetPrefix(string partnerId) => $"offer/{partnerId}/";

    public string RuleId { get; } = $"offer:{offer.PartnerId}:{offer.OfferId}";

    public string ActivationKey { get; } = $"k.oa:{offer.PartnerId}/{offer.OfferId}";

    public string ConversionsKey { get; } = $"k.oc:{offer.PartnerId}/{offer.OfferId}";

    public static string LinkKey(string partnerId) => "k.pk:" + partnerId;

    /// <summary>What a partner's award rows refer to ('/' keeps it apart from any transaction id a row may refer to).</summary>
    public static string PartnerReference(string partnerId) => "partner/" + partnerId;

    /// <summary>The shared budget a partner's direct awards draw from, sized by its credit limit ('/' as in offers' budgets).</summary>
    public static string CreditBudgetId(string partnerId) => "credit/" + partnerId;

    /// <summary>The short, fixed-length name of a partner in its transactions' ids (an id holds 64 characters at most).</summary>
    public static string PartnerTag(string partnerId) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partnerId)), 0, 6);

    /// <param name="channel">Null when the channel does not matter (a listing for every channel).</param>
    public OfferBlock Check(MemberState member, string tier, int? channel, DateTimeOffset at)
    {
        if (Offer.State != ActiveState)
        {
            return OfferBlock.NotActive;
        }

        var ms = at.ToUnixTimeMilliseconds();
        if (ms < Offer.StartsAtMs || ms >= Offer.EndsAtMs)
        {
            return OfferBlock.Window;
        }

        if (_tiers.Count > 0 && !_tiers.Contains(tier))
        {
            return OfferBlock.Tier;
        }

        if (_segments.Count > 0 && !member.Segments.Any(_segments.Contains))
        {
            return OfferBlock.Segment;
        }

        if (_memberships.Count > 0 && !_memberships.Any(m => member.HasMembershipAt(m, at)))
        {
            return OfferBlock.Membership;
        }

        if (channel is { } used && _channels.Count > 0 && !_channels.Contains(used))
        {
            return OfferBlock.Channel;
        }

        return Offer.PerMemberLimit > 0 && member.Counter(ConversionsKey) >= Offer.PerMemberLimit ? OfferBlock.Limit : OfferBlock.None;
    }

    /// <summary>
    /// What a conversion of that spend earns: the fixed points, or points per unit of spend, rounded down; never above
    /// the offer's budget (a conversion that would earn more than the whole budget is refused as beyond it).
    /// </summary>
    public long PointsFor(long spendMinor)
    {
        if (Offer.FixedPoints > 0)
        {
            return Offer.FixedPoints;
        }

        var points = (Int128)Math.Max(0, spendMinor) * Offer.PointsPerUnit / Offer.PerMinor;
        return points > Offer.BudgetPoints ? Offer.BudgetPoints + 1 : (long)points;
    }

    /// <summary>
    /// Why a conversion cannot be counted, on the member's state at the time of purchase. Targeting is not checked again
    /// (activation did): the answer must tell the partner nothing of the member's tier, segments or memberships.
    /// </summary>
    public string? ConversionRefusal(MemberState member, DateTimeOffset at)
    {
        if (member.Counter(ActivationKey) == 0)
        {
            return $"the member has not activated offer '{Offer.OfferId}'";
        }

        var ms = at.ToUnixTimeMilliseconds();
        if (Offer.State != ActiveState || ms < Offer.StartsAtMs || ms >= Offer.EndsAtMs)
        {
            return $"offer '{Offer.OfferId}' is not active at that time";
        }

        return Offer.PerMemberLimit > 0 && member.Counter(ConversionsKey) >= Offer.PerMemberLimit
            ? $"the member has reached offer '{Offer.OfferId}''s per-member limit"
            : null;
    }

    public static string Why(OfferBlock block) => block switch
    {
        OfferBlock.NotActive => "the offer is paused or ended",
        OfferBlock.Window => "it is outside the offer's window",
        OfferBlock.Tier => "the member's tier is not one the offer targets",
        OfferBlock.Segment => "the member holds none of the segments the offer targets",
        OfferBlock.Membership => "the member holds none of the memberships the offer targets",
        OfferBlock.Channel => "the offer is not for that channel",
        _ => "the member has reached the offer's per-member limit",
    };

    private static HashSet<string> Set(string list) => new(list.Split(',', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
}
