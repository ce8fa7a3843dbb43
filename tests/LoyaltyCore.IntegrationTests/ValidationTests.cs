using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class ValidationTests
{
    public static TheoryData<string, string> BadScoreRequests => new()
    {
        { "missing transaction id", "transaction_id" },
        { "over-long transaction id", "transaction_id" },
        { "transaction id with a brace", "transaction_id" },
        { "missing member id", "member_id" },
        { "missing store", "store_id" },
        { "unspecified channel", "channel" },
        { "no lines", "lines" },
        { "zero quantity", "lines[0].quantity" },
        { "negative price", "lines[1].unit_price_minor" },
        { "missing sku", "lines[0].sku" },
        { "other currency", "currency" },
        { "far future", "occurred_at" },
        { "missing occurred_at", "occurred_at" },
        { "too many lines", "lines" },
        { "overflowing total", "lines[1].unit_price_minor" },
        { "total above the limit", "lines" },
        { "reserved transaction id", "transaction_id" },
        { "too many labels", "lines[0].labels" },
        { "label key with a space", "lines[1].labels" },
        { "empty label value", "lines[0].labels[color]" },
        { "over-long label value", "lines[0].labels[color]" },
        { "label value with a control character", "lines[1].labels[promo]" },
    };

    [Theory]
    [MemberData(nameof(BadScoreRequests))]
    public async Task A_bad_purchase_is_rejected_naming_the_field_and_writes_nothing(string mistake, string field)
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);
        Spoil(request, mistake);

        await RpcAssert.RejectsField(field, () => server.Scoring.ScoreAsync(request).ResponseAsync);

        Assert.Equal(0, await Ledger.CountAsync(memberId));
        Assert.Equal(0, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Every_bad_field_is_reported_at_once()
    {
        var server = await ServerInstance.Shared;
        var request = Requests.Score(Ids.Member());
        request.Currency = "USD";
        request.Lines[0].Quantity = -1;
        request.Channel = Channel.Unspecified;

        var badRequest = await RpcAssert.RejectsField("currency", () => server.Scoring.ScoreAsync(request).ResponseAsync);

        Assert.Equal(["channel", "currency", "lines[0].quantity"], badRequest.FieldViolations.Select(v => v.Field).Order());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task A_redemption_of_no_or_negative_points_is_rejected(long points)
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await RpcAssert.RejectsField("points", () => server.Scoring.RedeemAsync(Requests.Redeem(memberId, points)).ResponseAsync);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
    }

    [Fact]
    public async Task An_oversize_message_is_refused_before_it_is_parsed()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var request = Requests.Score(memberId);
        request.Lines[0].Category = new string('x', 300 * 1024);

        await RpcAssert.FailsWith(StatusCode.ResourceExhausted, () => server.Scoring.ScoreAsync(request).ResponseAsync);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
    }

    [Fact]
    public async Task Member_ids_are_validated_on_member_calls()
    {
        var server = await ServerInstance.Shared;
        await RpcAssert.RejectsField("member_id", () => server.Members.EnrollAsync(new EnrollRequest { MemberId = "a b" }).ResponseAsync);
        await RpcAssert.RejectsField("member_id", () => server.Members.GetMemberAsync(new GetMemberRequest()).ResponseAsync);
    }

    private static void Spoil(ScoreRequest request, string mistake)
    {
        switch (mistake)
        {
            case "missing transaction id": request.TransactionId = string.Empty; break;
            case "over-long transaction id": request.TransactionId = new string('t', 65); break;
            case "transaction id with a brace": request.TransactionId = "t}1"; break;
            case "missing member id": request.MemberId = string.Empty; break;
            case "missing store": request.StoreId = string.Empty; break;
            case "unspecified channel": request.Channel = Channel.Unspecified; break;
            case "no lines": request.Lines.Clear(); break;
            case "zero quantity": request.Lines[0].Quantity = 0; break;
            case "negative price": request.Lines[1].UnitPriceMinor = -1; break;
            case "missing sku": request.Lines[0].Sku = string.Empty; break;
            case "other currency": request.Currency = "USD"; break;
            case "far future": request.OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)); break;
            case "missing occurred_at": request.OccurredAt = null; break;
            case "too many lines":
                for (var i = 0; i < 200; i++)
                {
                    request.Lines.Add(Requests.Line($"extra-{i}", 1, 100));
                }

                break;
            case "overflowing total": request.Lines[1].UnitPriceMinor = long.MaxValue / 2; request.Lines[1].Quantity = 3; break;
            case "total above the limit": request.Lines[1].UnitPriceMinor = 2_000_000_000_000; break;
            case "reserved transaction id": request.TransactionId = "birthday:2026"; break;
            case "too many labels":
                for (var i = 0; i < 11; i++)
                {
                    request.Lines[0].Labels.Add($"k{i}", "v");
                }

                break;
            case "label key with a space": request.Lines[1].Labels.Add("bad key", "v"); break;
            case "empty label value": request.Lines[0].Labels.Add("color", string.Empty); break;
            case "over-long label value": request.Lines[0].Labels.Add("color", new string('r', 65)); break;
            case "label value with a control character": request.Lines[1].Labels.Add("promo", "SPRING\n24"); break;
            default: throw new ArgumentOutOfRangeException(nameof(mistake), mistake, null);
        }
    }
}
