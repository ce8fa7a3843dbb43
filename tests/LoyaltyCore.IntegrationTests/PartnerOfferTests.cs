using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Partners' offers: their life, their checks, and every partner call against another partner's offers.</summary>
public sealed class PartnerOfferTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(ownLedger: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<TestPartner> PartnerAsync() => TestPartner.CreateAsync(_server);

    private static Offer NewOffer(string offerId = "spring-hotels") => new()
    {
        OfferId = offerId,
        Title = "Double points on hotel nights",
        Description = "Book any hotel before June.",
        StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
        EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(30)),
        Tiers = { "silver", "gold" },
        Segments = { "travellers" },
        Channels = { Channel.Web, Channel.MobileApp },
        PointsPerUnit = 2,
        PerMinor = 100,
        BudgetPoints = 50_000,
        PerMemberLimit = 3,
    };

    [Fact]
    public async Task A_partner_publishes_updates_pauses_resumes_and_ends_its_offer()
    {
        var (partnerId, _, partner) = await PartnerAsync();

        var created = await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer() });
        var changed = NewOffer();
        changed.Title = "Triple points on hotel nights";
        changed.PointsPerUnit = 3;
        var updated = await partner.UpdateOfferAsync(new UpdateOfferRequest { Offer = changed });
        var paused = await partner.PauseOfferAsync(new PauseOfferRequest { OfferId = "spring-hotels" });
        var resumed = await partner.ResumeOfferAsync(new ResumeOfferRequest { OfferId = "spring-hotels" });
        var ended = await partner.EndOfferAsync(new EndOfferRequest { OfferId = "spring-hotels" });
        var endedAgain = await partner.EndOfferAsync(new EndOfferRequest { OfferId = "spring-hotels" });
        var listed = await partner.ListOffersAsync(new ListPartnerOffersRequest());

        Assert.Equal((partnerId, OfferState.Active, 2L, 100L, 50_000L, 3L), (created.PartnerId, created.State, created.PointsPerUnit, created.PerMinor, created.BudgetPoints, created.PerMemberLimit));
        Assert.Equal(["silver", "gold"], created.Tiers);
        Assert.Equal([Channel.Web, Channel.MobileApp], created.Channels);
        Assert.Equal(("Triple points on hotel nights", 3L), (updated.Title, updated.PointsPerUnit));
        Assert.Equal([OfferState.Paused, OfferState.Active, OfferState.Ended, OfferState.Ended], new[] { paused.State, resumed.State, ended.State, endedAgain.State });
        Assert.Equal(("Triple points on hotel nights", OfferState.Ended), (Assert.Single(listed.Offers).Title, listed.Offers[0].State));
        // An ended offer never changes again.
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.ResumeOfferAsync(new ResumeOfferRequest { OfferId = "spring-hotels" }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.UpdateOfferAsync(new UpdateOfferRequest { Offer = NewOffer() }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer() }).ResponseAsync);
    }

    [Fact]
    public async Task A_bad_offer_is_refused_field_by_field_and_nothing_is_stored()
    {
        var (_, _, partner) = await PartnerAsync();
        var offer = NewOffer("bad offer");
        offer.Title = "";
        offer.EndsAt = offer.StartsAt;
        offer.Tiers.Add("platinum");
        offer.Channels.Add(Channel.Unspecified);
        offer.FixedPoints = 100;
        offer.BudgetPoints = 0;
        offer.PerMemberLimit = -1;

        var refused = await RpcAssert.RejectsField("offer.offer_id", () => partner.CreateOfferAsync(new CreateOfferRequest { Offer = offer }).ResponseAsync);

        Assert.Equal(
            ["offer.offer_id", "offer.title", "offer.ends_at", "offer.tiers", "offer.channels", "offer.fixed_points", "offer.budget_points", "offer.per_member_limit"],
            refused.FieldViolations.Select(v => v.Field));
        Assert.Empty((await partner.ListOffersAsync(new ListPartnerOffersRequest())).Offers);
        await RpcAssert.RejectsField("offer", () => partner.CreateOfferAsync(new CreateOfferRequest()).ResponseAsync);
    }

    public static TheoryData<string> PartnerCalls => new()
    {
        "GetPartnerProfile", "CreateOffer", "GetOffer", "ListOffers", "UpdateOffer", "PauseOffer", "ResumeOffer", "EndOffer", "ReportConversion", "AwardPoints", "GetSettlement",
    };

    [Theory]
    [MemberData(nameof(PartnerCalls))]
    public async Task Every_partner_call_on_another_partners_resources_is_not_found_and_changes_nothing(string call)
    {
        var (owner, _, ownerClient) = await PartnerAsync();
        var (_, _, other) = await PartnerAsync();
        await ownerClient.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer() });
        var before = await ownerClient.ListOffersAsync(new ListPartnerOffersRequest());
        // A member who shared their id with the owner only, by activating its offer.
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var open = NewOffer("open-to-all");
        open.Tiers.Clear();
        open.Segments.Clear();
        open.Channels.Clear();
        await ownerClient.CreateOfferAsync(new CreateOfferRequest { Offer = open });
        before = await ownerClient.ListOffersAsync(new ListPartnerOffersRequest());
        await _server.Members.ActivateOfferAsync(new ActivateOfferRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, PartnerId = owner, OfferId = "open-to-all", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Func<Task> attempt = call switch
        {
            "GetPartnerProfile" => () => other.GetPartnerProfileAsync(new GetPartnerProfileRequest { PartnerId = owner }).ResponseAsync,
            "CreateOffer" => () => other.CreateOfferAsync(new CreateOfferRequest { PartnerId = owner, Offer = NewOffer("intruder") }).ResponseAsync,
            "GetOffer" => () => other.GetOfferAsync(new GetOfferRequest { OfferId = "spring-hotels" }).ResponseAsync,
            "ListOffers" => () => other.ListOffersAsync(new ListPartnerOffersRequest { PartnerId = owner }).ResponseAsync,
            "UpdateOffer" => () => other.UpdateOfferAsync(new UpdateOfferRequest { Offer = NewOffer() }).ResponseAsync,
            "PauseOffer" => () => other.PauseOfferAsync(new PauseOfferRequest { OfferId = "spring-hotels" }).ResponseAsync,
            "ResumeOffer" => () => other.ResumeOfferAsync(new ResumeOfferRequest { PartnerId = owner, OfferId = "spring-hotels" }).ResponseAsync,
            "EndOffer" => () => other.EndOfferAsync(new EndOfferRequest { OfferId = "spring-hotels" }).ResponseAsync,
            "ReportConversion" => () => other.ReportConversionAsync(new ReportConversionRequest
            {
                ConversionId = "c1", MemberId = memberId, OfferId = "open-to-all", SpendMinor = 10_000, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            }).ResponseAsync,
            "GetSettlement" => () => other.GetSettlementAsync(new GetSettlementRequest
            {
                PartnerId = owner, From = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)), To = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)),
            }).ResponseAsync,
            _ => () => other.AwardPointsAsync(new AwardPointsRequest
            {
                AwardId = "a1", MemberId = memberId, Points = 10, Reason = "Welcome", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
            }).ResponseAsync,
        };

        await RpcAssert.FailsWith(StatusCode.NotFound, attempt);
        Assert.Equal(before, await ownerClient.ListOffersAsync(new ListPartnerOffersRequest()));
        Assert.Empty((await other.ListOffersAsync(new ListPartnerOffersRequest())).Offers);
        Assert.Equal(member, await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId }));
    }

    [Fact]
    public async Task Over_http_json_a_partner_publishes_an_offer_and_cannot_read_another_partners()
    {
        var (partnerId, key, _) = await PartnerAsync();
        var (otherId, _, otherClient) = await PartnerAsync();
        await otherClient.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("theirs") });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        using var created = await http.PostAsJsonAsync(new Uri($"/v1/partners/{partnerId}/offers", UriKind.Relative), new
        {
            offerId = "museum-pass", title = "500 points with a museum pass", startsAt = DateTimeOffset.UtcNow.AddHours(-1), endsAt = DateTimeOffset.UtcNow.AddDays(10),
            fixedPoints = 500, budgetPoints = 100_000, perMemberLimit = 1,
        });
        using var listed = await http.GetAsync(new Uri($"/v1/partners/{partnerId}/offers", UriKind.Relative));
        using var theirs = await http.GetAsync(new Uri($"/v1/partners/{otherId}/offers/theirs", UriKind.Relative));

        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var offers = (await listed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("offers");
        Assert.Equal(("museum-pass", "OFFER_STATE_ACTIVE"), (offers[0].GetProperty("offerId").GetString(), offers[0].GetProperty("state").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, theirs.StatusCode);
        Assert.Equal($"There is no partner '{otherId}'.", (await theirs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString());
    }
}
