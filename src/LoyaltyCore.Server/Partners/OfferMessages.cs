using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Scoring;
using Status = Grpc.Core.Status;

namespace LoyaltyCore.Server.Partners;

/// <summary>Offers as the protos carry them, and the checks an offer's fields must pass.</summary>
internal static class OfferMessages
{
    private const int MaxTitle = 200;
    private const int MaxDescription = 2000;
    private const long MaxPoints = 1_000_000_000_000;

    public static RpcException NotFound(string partnerId, string offerId) =>
        new(new Status(StatusCode.NotFound, $"Partner '{partnerId}' has no offer '{offerId}'."));

    public static RpcException Ended(string offerId) =>
        new(new Status(StatusCode.FailedPrecondition, $"Offer '{offerId}' has ended; it cannot change any more."));

    /// <summary>Every problem of an offer's fields at once, as <c>offer.FIELD</c> violations.</summary>
    public static void Validate(Offer? offer, LoyaltyProgram program)
    {
        if (offer is null)
        {
            throw RpcErrors.InvalidArgument("offer", "required");
        }

        List<BadRequest.Types.FieldViolation> violations = [];
        void Add(string field, string description) => violations.Add(new() { Field = "offer." + field, Description = description });
        if (!RequestValidation.IsValidId(offer.OfferId))
        {
            Add("offer_id", RequestValidation.IdRequirement);
        }

        if (offer.Title.Length is 0 or > MaxTitle || offer.Title.Any(char.IsControl))
        {
            Add("title", $"required, 1-{MaxTitle} characters with no control characters");
        }

        if (offer.Description.Length > MaxDescription)
        {
            Add("description", $"at most {MaxDescription} characters");
        }

        var starts = RequestValidation.InstantOf(offer.StartsAt);
        var ends = RequestValidation.InstantOf(offer.EndsAt);
        if (starts is null)
        {
            Add("starts_at", "required, a valid timestamp");
        }

        if (ends is null)
        {
            Add("ends_at", "required, a valid timestamp");
        }
        else if (ends <= starts)
        {
            Add("ends_at", "must be after starts_at");
        }

        foreach (var tier in offer.Tiers.Where(t => !program.Tiers.Tiers.Any(known => known.Id == t)))
        {
            Add("tiers", $"the program has no tier '{tier}'");
        }

        foreach (var membership in offer.Memberships.Where(m => program.FindMembership(m) is null))
        {
            Add("memberships", $"the program has no membership '{membership}'");
        }

        if (offer.Segments.Any(s => !RequestValidation.IsValidId(s)))
        {
            Add("segments", RequestValidation.IdRequirement);
        }

        if (offer.Channels.Any(c => c == Channel.Unspecified || !System.Enum.IsDefined(c)))
        {
            Add("channels", "each one of the defined channels");
        }

        if ((offer.FixedPoints > 0) == (offer.PointsPerUnit > 0) || offer.FixedPoints is < 0 or > MaxPoints || offer.PointsPerUnit is < 0 or > MaxPoints)
        {
            Add("fixed_points", $"exactly one of fixed_points and points_per_unit between 1 and {MaxPoints}");
        }

        if (offer.PointsPerUnit > 0 ? offer.PerMinor is < 1 or > MaxPoints : offer.PerMinor != 0)
        {
            Add("per_minor", "between 1 and 1000000000000 with points_per_unit, 0 otherwise");
        }

        if (offer.BudgetPoints is < 1 or > MaxPoints)
        {
            Add("budget_points", $"between 1 and {MaxPoints}");
        }

        if (offer.PerMemberLimit is < 0 or > MaxPoints)
        {
            Add("per_member_limit", "0 (no limit) or more");
        }

        if (violations.Count > 0)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    /// <summary>The fields a partner sets, onto a stored offer (its ids, state and times aside).</summary>
    public static void CopyTo(Offer offer, StoredOffer stored)
    {
        stored.Title = offer.Title;
        stored.Description = offer.Description;
        stored.StartsAtMs = offer.StartsAt.ToDateTimeOffset().ToUnixTimeMilliseconds();
        stored.EndsAtMs = offer.EndsAt.ToDateTimeOffset().ToUnixTimeMilliseconds();
        stored.Tiers = string.Join(',', offer.Tiers);
        stored.Segments = string.Join(',', offer.Segments);
        stored.Memberships = string.Join(',', offer.Memberships);
        stored.Channels = string.Join(',', offer.Channels.Select(c => ((int)c).ToString(CultureInfo.InvariantCulture)));
        stored.FixedPoints = offer.FixedPoints;
        stored.PointsPerUnit = offer.PointsPerUnit;
        stored.PerMinor = offer.PerMinor;
        stored.BudgetPoints = offer.BudgetPoints;
        stored.PerMemberLimit = offer.PerMemberLimit;
    }

    public static Offer ToMessage(StoredOffer stored)
    {
        var offer = new Offer
        {
            OfferId = stored.OfferId,
            PartnerId = stored.PartnerId,
            Title = stored.Title,
            Description = stored.Description,
            StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.StartsAtMs)),
            EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.EndsAtMs)),
            FixedPoints = stored.FixedPoints,
            PointsPerUnit = stored.PointsPerUnit,
            PerMinor = stored.PerMinor,
            BudgetPoints = stored.BudgetPoints,
            PerMemberLimit = stored.PerMemberLimit,
            State = (OfferState)stored.State,
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.CreatedAtMs)),
            UpdatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(stored.UpdatedAtMs)),
        };
        offer.Tiers.AddRange(Split(stored.Tiers));
        offer.Segments.AddRange(Split(stored.Segments));
        offer.Memberships.AddRange(Split(stored.Memberships));
        offer.Channels.AddRange(Split(stored.Channels).Select(c => (Channel)int.Parse(c, CultureInfo.InvariantCulture)));
        return offer;
    }

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries);
}
