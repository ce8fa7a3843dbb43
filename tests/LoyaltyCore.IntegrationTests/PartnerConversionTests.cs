using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Members see and activate partners' offers; partners report conversions and award points, funded by them.</summary>
public sealed class PartnerConversionTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync() => _server = await ServerInstance.StartAsync(ownLedger: true);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private Task<TestPartner> PartnerAsync(long creditLimit = 10_000) => TestPartner.CreateAsync(_server, creditLimit);

    private static Offer NewOffer(string offerId, long fixedPoints = 0, long budget = 100_000, long limit = 0) => new()
    {
        OfferId = offerId,
        Title = "Museum pass",
        StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)),
        EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(30)),
        FixedPoints = fixedPoints,
        PointsPerUnit = fixedPoints > 0 ? 0 : 2,
        PerMinor = fixedPoints > 0 ? 0 : 100,
        BudgetPoints = budget,
        PerMemberLimit = limit,
    };

    private async Task<ActivateOfferResponse> ActivateAsync(string memberId, string partnerId, string offerId, string? transactionId = null) =>
        await _server.Members.ActivateOfferAsync(new ActivateOfferRequest
        {
            TransactionId = transactionId ?? Ids.Transaction(), MemberId = memberId, PartnerId = partnerId, OfferId = offerId,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });

    private static ReportConversionRequest Conversion(string memberId, string offerId, long spendMinor = 12_345, string? conversionId = null) => new()
    {
        ConversionId = conversionId ?? "c-" + Guid.NewGuid().ToString("N")[..16], MemberId = memberId, OfferId = offerId, SpendMinor = spendMinor,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    [Fact]
    public async Task A_member_activates_an_offer_and_the_partners_conversion_earns_its_points_exactly_once()
    {
        var (partnerId, _, partner) = await PartnerAsync();
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("museum") });
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var metricsBefore = await MetricSamples.ScrapeAsync(_server);

        var listed = await _server.Members.ListOffersAsync(new ListMemberOffersRequest { MemberId = memberId });
        await ActivateAsync(memberId, partnerId, "museum");
        var request = Conversion(memberId, "museum");
        var converted = await partner.ReportConversionAsync(request);
        var retried = await partner.ReportConversionAsync(request);
        var changed = request.Clone();
        changed.SpendMinor = 500;
        var reused = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => partner.ReportConversionAsync(changed).ResponseAsync);
        var after = await _server.Members.ListOffersAsync(new ListMemberOffersRequest { MemberId = memberId });

        Assert.Contains(listed.Offers, o => o.PartnerId == partnerId && o.OfferId == "museum" && !o.Activated);
        // 2 points per 1.00 spent: 123.45 earns 246, floor.
        Assert.Equal((246L, false), (converted.PointsAwarded, converted.Replayed));
        Assert.Equal((246L, true), (retried.PointsAwarded, retried.Replayed));
        Assert.Equal((true, 1L), (after.Offers.Single(o => o.OfferId == "museum" && o.PartnerId == partnerId).Activated, after.Offers.Single(o => o.PartnerId == partnerId).Conversions));
        Assert.Equal(246, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        var row = Assert.Single((await _server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.PartnerAward } })).Transactions);
        Assert.Equal((246L, "partner/" + partnerId, $"offer:{partnerId}:museum"), (row.Points, row.RefersTo, string.Join(',', row.RuleIds)));
        var metrics = await MetricSamples.ScrapeAsync(_server);
        Assert.Equal(1, metrics.Since(metricsBefore, $"loyalty_partner_offers_activated_total{{partner=\"{partnerId}\",offer=\"museum\"}}"));
        Assert.Equal(1, metrics.Since(metricsBefore, $"loyalty_partner_offers_converted_total{{partner=\"{partnerId}\",offer=\"museum\"}}"));
        Assert.Equal(246, metrics.Since(metricsBefore, $"loyalty_partner_points_funded_total{{partner=\"{partnerId}\",offer=\"museum\"}}"));
        Assert.True(metrics.Since(metricsBefore, $"loyalty_partner_offers_shown_total{{partner=\"{partnerId}\",offer=\"museum\"}}") >= 2);
        Assert.Contains("already used", reused.Status.Detail, StringComparison.Ordinal);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task A_partner_reaches_only_members_who_shared_their_id_and_offers_they_activated()
    {
        var (partnerId, _, partner) = await PartnerAsync();
        var (otherId, _, other) = await PartnerAsync();
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("museum", limit: 1) });
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("theatre") });
        await other.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("museum") });
        var stranger = await IdempotencyTests.EnrolledMemberAsync(_server);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await ActivateAsync(memberId, partnerId, "museum");

        var notShared = await RpcAssert.FailsWith(StatusCode.NotFound, () => partner.ReportConversionAsync(Conversion(stranger, "museum")).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => partner.ReportConversionAsync(Conversion(Ids.Member(), "museum")).ResponseAsync);
        var notActivated = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.ReportConversionAsync(Conversion(memberId, "theatre")).ResponseAsync);
        // The other partner's offer of the same id is not this member's activation, and the member never shared with it.
        await RpcAssert.FailsWith(StatusCode.NotFound, () => other.ReportConversionAsync(Conversion(memberId, "museum")).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => other.AwardPointsAsync(new AwardPointsRequest { AwardId = "a1", MemberId = memberId, Points = 5, Reason = "Welcome", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => other.ReportConversionAsync(new ReportConversionRequest(Conversion(memberId, "museum")) { PartnerId = partnerId }).ResponseAsync);
        await partner.ReportConversionAsync(Conversion(memberId, "museum"));
        var limit = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.ReportConversionAsync(Conversion(memberId, "museum")).ResponseAsync);
        await partner.PauseOfferAsync(new PauseOfferRequest { OfferId = "theatre" });
        var paused = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => ActivateAsync(memberId, partnerId, "theatre"));

        Assert.Equal($"Partner '{partnerId}' knows no member '{stranger}'.", notShared.Status.Detail);
        Assert.Equal("The conversion cannot be counted: the member has not activated offer 'theatre'.", notActivated.Status.Detail);
        // A member who does not exist gets the answer of one who never shared their id.
        var nobody = Ids.Member();
        var unknown = await RpcAssert.FailsWith(StatusCode.NotFound, () => partner.ReportConversionAsync(Conversion(nobody, "museum")).ResponseAsync);
        Assert.Equal($"Partner '{partnerId}' knows no member '{nobody}'.", unknown.Status.Detail);
        Assert.Contains("per-member limit", limit.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("paused or ended", paused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = stranger })).Balance);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, memberId);
    }

    [Fact]
    public async Task An_offer_budget_hammered_by_concurrent_conversions_is_never_overspent()
    {
        var (partnerId, _, partner) = await PartnerAsync();
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("flash", fixedPoints: 300, budget: 1_000) });
        var members = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => IdempotencyTests.EnrolledMemberAsync(_server)));
        foreach (var memberId in members)
        {
            await ActivateAsync(memberId, partnerId, "flash");
        }

        var outcomes = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return (await partner.ReportConversionAsync(Conversion(m, "flash"))).PointsAwarded;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return 0;
            }
        }));

        Assert.Equal(900, outcomes.Sum());
        Assert.Equal(3, outcomes.Count(p => p == 300));
        Assert.Equal(900, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, $"offer/{partnerId}/flash"));
        // With no budget left for a conversion, members are no longer shown the offer.
        Assert.DoesNotContain((await _server.Members.ListOffersAsync(new ListMemberOffersRequest { MemberId = members[0] })).Offers, o => o.PartnerId == partnerId);
    }

    [Fact]
    public async Task Direct_awards_stay_within_the_partners_credit_limit_under_concurrency()
    {
        var (partnerId, key, partner) = await PartnerAsync(creditLimit: 500);
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("welcome") });
        var members = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => IdempotencyTests.EnrolledMemberAsync(_server)));
        foreach (var memberId in members)
        {
            await ActivateAsync(memberId, partnerId, "welcome");
        }

        var outcomes = await Task.WhenAll(members.Select(async m =>
        {
            try
            {
                return (await partner.AwardPointsAsync(new AwardPointsRequest { AwardId = "welcome-" + m[^6..], MemberId = m, Points = 100, Reason = "Welcome gift", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) })).PointsAwarded;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.FailedPrecondition)
            {
                return 0;
            }
        }));

        Assert.Equal(500, outcomes.Sum());
        Assert.Equal(500, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, $"credit/{partnerId}"));

        // The administrator raises the limit to 600: 100 more can be awarded, not 101.
        var admin = new PartnerAdminService.PartnerAdminServiceClient(_server.CreateChannel(ServerInstance.AdminKey));
        var raised = await admin.UpdatePartnerAsync(new UpdatePartnerRequest { PartnerId = partnerId, Name = "Renamed", PricePerThousandPointsMinor = 950, CreditLimitPoints = 600 });
        Assert.Equal(("Renamed", 950L, 600L), (raised.Name, raised.PricePerThousandPointsMinor, raised.CreditLimitPoints));
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.AwardPointsAsync(new AwardPointsRequest { AwardId = "extra-1", MemberId = members[0], Points = 101, Reason = "More", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) }).ResponseAsync);
        Assert.Equal(100, (await partner.AwardPointsAsync(new AwardPointsRequest { AwardId = "extra-2", MemberId = members[0], Points = 100, Reason = "More", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) })).PointsAwarded);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => admin.UpdatePartnerAsync(new UpdatePartnerRequest { PartnerId = "p-nobody", Name = "X" }).ResponseAsync);

        // Over HTTP/JSON, as a partner's backend: a refusal carries the google.rpc.Status.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        using var refused = await http.PostAsJsonAsync(new Uri($"/v1/partners/{partnerId}/awards", UriKind.Relative),
            new { awardId = "one-more", memberId = members[0], points = 1, reason = "Sorry", occurredAt = DateTimeOffset.UtcNow });
        var status = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal((int)StatusCode.FailedPrecondition, status.GetProperty("code").GetInt32());
        Assert.Equal($"Partner '{partnerId}' has not enough credit left for 1 points.", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_conversion_worth_more_than_the_whole_budget_or_nothing_is_refused_and_changes_nothing()
    {
        var (partnerId, _, partner) = await PartnerAsync();
        var huge = NewOffer("huge", budget: 1_000);
        huge.PointsPerUnit = 4_294_967_295;
        huge.PerMinor = 1;
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = huge });
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await ActivateAsync(memberId, partnerId, "huge");
        var before = await HotState.StateAsync(memberId);

        // 4,294,967,296 x 4,294,967,295 would not fit in 64 bits: it is beyond the budget, whatever it wraps to.
        var beyond = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.ReportConversionAsync(Conversion(memberId, "huge", spendMinor: 4_294_967_296)).ResponseAsync);
        var nothing = await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => partner.ReportConversionAsync(Conversion(memberId, "huge", spendMinor: 0)).ResponseAsync);

        Assert.Contains("not enough budget", beyond.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("earns no points", nothing.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await HotState.StateAsync(memberId));
        Assert.Equal(0, await Ledger.CampaignDrawnAsync(_server.LedgerConnectionString, PartnerBudget(partnerId, "huge")));
    }

    private static string PartnerBudget(string partnerId, string offerId) => $"offer/{partnerId}/{offerId}";

    [Fact]
    public async Task Over_http_json_a_partner_reports_a_conversion()
    {
        var (partnerId, key, partner) = await PartnerAsync();
        await partner.CreateOfferAsync(new CreateOfferRequest { Offer = NewOffer("museum", fixedPoints: 500) });
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await ActivateAsync(memberId, partnerId, "museum");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);

        using var response = await http.PostAsJsonAsync(new Uri($"/v1/partners/{partnerId}/conversions", UriKind.Relative),
            new { conversionId = "order-7781", memberId, offerId = "museum", spendMinor = 4_500, occurredAt = DateTimeOffset.UtcNow });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(response.IsSuccessStatusCode, body.ToString());
        Assert.Equal(("order-7781", 500L), (body.GetProperty("conversionId").GetString(), body.GetProperty("pointsAwarded").GetInt64()));
        Assert.False(body.TryGetProperty("balance", out _));
        Assert.Equal(500, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
    }
}
