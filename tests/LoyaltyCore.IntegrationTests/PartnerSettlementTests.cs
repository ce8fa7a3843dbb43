using System.Net.Http.Json;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Points;
using LoyaltyCore.IntegrationTests.Infrastructure;
using LoyaltyCore.Server.Transactions;

namespace LoyaltyCore.IntegrationTests;

/// <summary>A partner's settlement for a period, against figures worked out by hand.</summary>
public sealed class PartnerSettlementTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(s => s["Expiry:RunEnabled"] = "false", ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """ "expiry": { "months": 12 } """));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static Offer Open(string offerId, long fixedPoints = 0) => new()
    {
        OfferId = offerId, Title = offerId,
        StartsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-1)), EndsAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(30)),
        FixedPoints = fixedPoints, PointsPerUnit = fixedPoints > 0 ? 0 : 2, PerMinor = fixedPoints > 0 ? 0 : 100, BudgetPoints = 100_000,
    };

    private Task<ActivateOfferResponse> ActivateAsync(string memberId, string partnerId, string offerId) =>
        _server.Members.ActivateOfferAsync(new ActivateOfferRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, PartnerId = partnerId, OfferId = offerId, OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ResponseAsync;

    private static ReportConversionRequest Conversion(string memberId, string offerId, long spendMinor = 0) => new()
    {
        ConversionId = "c-" + Guid.NewGuid().ToString("N")[..12], MemberId = memberId, OfferId = offerId, SpendMinor = spendMinor,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    [Fact]
    public async Task The_settlement_of_a_period_is_what_the_partner_funded_less_what_was_credited_back_at_its_price()
    {
        var from = DateTimeOffset.UtcNow.AddMinutes(-1);
        var partner = await TestPartner.CreateAsync(_server);
        var (partnerId, client) = (partner.PartnerId, partner.Client);
        await client.CreateOfferAsync(new CreateOfferRequest { Offer = Open("museum", fixedPoints: 300) });
        await client.CreateOfferAsync(new CreateOfferRequest { Offer = Open("hotel") });
        var first = await IdempotencyTests.EnrolledMemberAsync(_server);
        var second = await IdempotencyTests.EnrolledMemberAsync(_server);
        await ActivateAsync(first, partnerId, "museum");
        await ActivateAsync(first, partnerId, "hotel");
        await ActivateAsync(second, partnerId, "museum");

        // The first member: a purchase of their own (45 points, the program's), then 300 + 246 + 150 funded by the partner.
        var purchase = Requests.Score(first);
        await _server.Scoring.ScoreAsync(purchase);
        await client.ReportConversionAsync(Conversion(first, "museum"));
        await client.ReportConversionAsync(Conversion(first, "hotel", spendMinor: 12_345));
        await client.AwardPointsAsync(new AwardPointsRequest { AwardId = "sorry-1", MemberId = first, Points = 150, Reason = "Late check-in", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow) });
        // They spend the program's 45 (the day's oldest lot), then return the purchase: its 45 come off the partner's lot,
        // unspent, and are credited back.
        await _server.Scoring.RedeemAsync(Requests.Redeem(first, 45));
        await _server.Scoring.ReturnAsync(new ReturnRequest
        {
            TransactionId = Ids.Transaction(), MemberId = first, PurchaseTransactionId = purchase.TransactionId, StoreId = "store-042", Channel = Channel.Store,
            OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        });
        // The second member: 300 funded, never spent, expired a year on: credited back.
        await client.ReportConversionAsync(Conversion(second, "museum"));
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris")).DateTime);
        // (Their expiry alone: the first member's lots fall due that day too.)
        await _server.Get<TransactionPipeline>().ProcessAsync(
            LoyaltyCore.Server.Transactions.Intents.ExpiryIntent.For(second, ExpiryPolicy.DayKey(today.AddMonths(12)), _server.Get<LoyaltyCore.Server.Programs.ProgramProvider>().Current,
                _server.Get<LoyaltyCore.Server.Observability.LoyaltyMetrics>()),
            CancellationToken.None);
        var to = DateTimeOffset.UtcNow.AddMinutes(1);

        var settlement = await client.GetSettlementAsync(new GetSettlementRequest { From = Timestamp.FromDateTimeOffset(from), To = Timestamp.FromDateTimeOffset(to) });

        // Funded 300 + 246 + 150 + 300 = 996; credited back 45 + 300 = 345; 651 points at 9.00 per 1,000: 5.859, owed 5.86.
        Assert.Equal((996L, 345L, 651L, 900L, "EUR", 586L), (settlement.PointsFunded, settlement.PointsCreditedBack, settlement.NetPoints, settlement.PricePerThousandPointsMinor, settlement.Currency, settlement.AmountOwedMinor));
        Assert.Equal([("hotel", 1L, 246L), ("museum", 2L, 600L)], settlement.Conversions.Select(c => (c.OfferId, c.Conversions, c.Points)));
        Assert.Equal((1L, 150L), (settlement.DirectAwards, settlement.DirectAwardPoints));
        // The first member's balance: the partner's 651 in a lot of its own, the program's 45 spent.
        var lots = await _server.Members.ListLotsAsync(new ListLotsRequest { MemberId = first });
        Assert.Equal([(partnerId, 651L)], lots.Lots.Select(l => (l.FundedBy, l.Points)));
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, first);
        await ReplayAssert.RedisIsTheLedgersReplayAsync(_server, second);

        // Another period holds nothing; an administrator reads the same as the partner; another partner reads nothing of it.
        var before = await client.GetSettlementAsync(new GetSettlementRequest { From = Timestamp.FromDateTimeOffset(from.AddDays(-2)), To = Timestamp.FromDateTimeOffset(from.AddDays(-1)) });
        Assert.Equal((0L, 0L, 0L), (before.PointsFunded, before.AmountOwedMinor, before.DirectAwards));
        var admin = new PartnerService.PartnerServiceClient(_server.CreateChannel(ServerInstance.AdminKey));
        Assert.Equal(settlement, await admin.GetSettlementAsync(new GetSettlementRequest { PartnerId = partnerId, From = settlement.From, To = settlement.To }));
        var other = await TestPartner.CreateAsync(_server);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => other.Client.GetSettlementAsync(new GetSettlementRequest { PartnerId = partnerId, From = settlement.From, To = settlement.To }).ResponseAsync);
        await RpcAssert.RejectsField("to", () => client.GetSettlementAsync(new GetSettlementRequest { From = settlement.To, To = settlement.From }).ResponseAsync);

        // Over HTTP/JSON, the period in the query.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}") };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", partner.ApiKey);
        var query = $"from={Uri.EscapeDataString(from.UtcDateTime.ToString("O"))}&to={Uri.EscapeDataString(to.UtcDateTime.ToString("O"))}";
        var json = await http.GetFromJsonAsync<JsonElement>(new Uri($"/v1/partners/{partnerId}/settlement?{query}", UriKind.Relative));
        Assert.Equal(586, json.GetProperty("amountOwedMinor").GetInt64());
    }

    [Theory]
    [InlineData(651, 900, 586)]
    [InlineData(1, 500, 1)]
    [InlineData(1, 499, 0)]
    [InlineData(-1, 500, -1)]
    [InlineData(0, 900, 0)]
    [InlineData(long.MaxValue, 1000, long.MaxValue)]
    public void The_amount_owed_is_rounded_half_away_from_zero_to_the_minor_unit(long netPoints, long price, long owed)
    {
        Assert.Equal(owed, LoyaltyCore.Server.Partners.Settlements.AmountOwed(netPoints, price));
    }
}
