using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Server.Configuration;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Scoring;

namespace LoyaltyCore.IntegrationTests;

/// <summary>
/// Random requests and blobs against the server's parsers: request validation answers INVALID_ARGUMENT with field
/// violations or accepts; the protobuf decoders of requests and of what the ledger and Redis store fail only with
/// their own decoding error, which the server turns into INVALID_ARGUMENT (requests) or a repair (stored rows).
/// </summary>
public sealed class ParserFuzzTests
{
    // A bounded run in CI; CsCheck_Iter asks for a longer hunt.
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("CsCheck_Iter"), out var iterations) ? iterations : 3_000;
    private static readonly LoyaltyProgram Program = ProgramParser.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "programs", "sample-program.json")));
    private static readonly ScoringOptions Limits = new() { MaxLines = 20 };
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);

    // Ids: valid ones, empty, too long, with characters that would break a Redis hash tag, non-ASCII.
    private static readonly Gen<string> Ids = Gen.OneOf(
        StringOf("abcXYZ019._:-", 1, 64),
        Gen.Const(string.Empty),
        StringOf("ab", 65, 80),
        StringOf("a{} \u00e9\u4e2d", 1, 10),
        Gen.String);

    private static readonly Gen<Timestamp> Instants = Gen.OneOf(
        Gen.Long[-62_135_596_800L, 253_402_300_799L].Select(seconds => new Timestamp { Seconds = seconds }),
        Gen.Int[-400, 10].Select(days => Timestamp.FromDateTimeOffset(Now.AddDays(days))),
        Gen.Select(Gen.Long, Gen.Int).Select((seconds, nanos) => new Timestamp { Seconds = seconds, Nanos = nanos }));

    private static readonly Gen<Line> Lines =
        from sku in Ids
        from category in Gen.OneOf(Gen.Const("grocery"), Ids)
        from quantity in Gen.OneOf(Gen.Int[-2, 5], Gen.Int)
        from price in Gen.OneOf(Gen.Long[-10, 100_000], Gen.Long)
        select new Line { Sku = sku, Category = category, Brand = "acme", Quantity = quantity, UnitPriceMinor = price };

    private static readonly Gen<ScoreRequest> ScoreRequests =
        from transactionId in Ids
        from memberId in Ids
        from storeId in Ids
        from channel in Gen.Int[-1, 8]
        from occurredAt in Gen.OneOf(Instants, Gen.Const(() => (Timestamp)null!))
        from currency in Gen.OneOf(Gen.Const("EUR"), StringOf("EURSD", 0, 4))
        from lines in Lines.Array[0, 25]
        select Build(transactionId, memberId, storeId, channel, occurredAt, currency, lines);

    [Fact]
    public void Validating_a_random_score_request_accepts_it_or_names_its_bad_fields() =>
        ScoreRequests.Sample(request =>
        {
            try
            {
                var basket = RequestValidation.Validate(request, Program, Limits, Now, TimeSpan.FromMinutes(5));
                Assert.True(basket.TotalMinor >= 0);
            }
            catch (RpcException ex)
            {
                Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
                var badRequest = ex.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>();
                Assert.NotNull(badRequest);
                Assert.NotEmpty(badRequest.FieldViolations);
            }
        }, iter: Iterations);

    [Fact]
    public void Random_bytes_decode_as_a_request_or_fail_with_the_decoding_error() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            DecodesOrRefuses(() => ScoreRequest.Parser.ParseFrom(bytes));
            DecodesOrRefuses(() => RedeemRequest.Parser.ParseFrom(bytes));
        }, iter: Iterations);

    [Fact]
    public void Corrupted_stored_blobs_decode_or_fail_with_the_decoding_error()
    {
        var entry = new LedgerEntry
        {
            TransactionId = "t-1", MemberId = "m-1", Kind = EntryKind.Earn, Points = 45, RuleIds = "base-earn",
            Changes = new StateChanges { Increments = { ["k.d:20261202"] = 45 }, Sets = { ["t"] = "silver" } },
        };
        var stored = entry.ToByteArray();
        var changes = entry.Changes.ToByteArray();
        Corruptions(stored).Sample(corrupt => DecodesOrRefuses(() => LedgerEntry.Parser.ParseFrom(corrupt)), iter: Iterations);
        Corruptions(changes).Sample(corrupt => DecodesOrRefuses(() => StateChanges.Parser.ParseFrom(corrupt)), iter: Iterations);
    }

    /// <summary>The blob with a few bytes overwritten and possibly cut short, as a torn or damaged write leaves it.</summary>
    private static Gen<byte[]> Corruptions(byte[] blob) =>
        Gen.Select(Gen.Int[0, blob.Length - 1], Gen.Byte).Array[1, 4].Select(Gen.Int[0, blob.Length], (edits, length) =>
        {
            var corrupt = (byte[])blob.Clone();
            foreach (var (at, value) in edits)
            {
                corrupt[at] = value;
            }

            return corrupt[..length];
        });

    private static void DecodesOrRefuses(Func<IMessage> decode)
    {
        try
        {
            decode();
        }
        catch (InvalidProtocolBufferException)
        {
            // The decoder's own error: what the server refuses or repairs.
        }
    }

    private static Gen<string> StringOf(string characters, int min, int max) =>
        Gen.Char[characters].Array[min, max].Select(chars => new string(chars));

    private static ScoreRequest Build(string transactionId, string memberId, string storeId, int channel, Timestamp occurredAt, string currency, Line[] lines)
    {
        var request = new ScoreRequest
        {
            TransactionId = transactionId,
            MemberId = memberId,
            StoreId = storeId,
            Channel = (LoyaltyCore.Contracts.V1.Channel)channel,
            OccurredAt = occurredAt,
            Currency = currency,
        };
        request.Lines.AddRange(lines);
        return request;
    }
}
