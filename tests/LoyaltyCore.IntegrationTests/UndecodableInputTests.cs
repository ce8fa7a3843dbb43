using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Bodies that are not the protobuf message they claim to be, sent as raw bytes on a real channel.</summary>
public sealed class UndecodableInputTests
{
    private static readonly Marshaller<byte[]> Raw = Marshallers.Create(bytes => bytes, bytes => bytes);

    public static TheoryData<string, byte[]> Bodies => new()
    {
        { "random bytes", [0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x99] },
        { "a truncated field", [0x0a, 0x10, 0x61, 0x62] },
        // transaction_id (field 1, a string) holding an invalid UTF-8 sequence.
        { "invalid UTF-8 in a string", [0x0a, 0x02, 0xc3, 0x28] },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_unary_body_that_does_not_decode_is_refused_as_invalid_argument(string what, byte[] body)
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(ServerInstance.PosKey);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "loyalty.v1.ScoringService", "Score", Raw, Raw);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(method, null, default, body).ResponseAsync);

        Assert.True(error.StatusCode == StatusCode.InvalidArgument, $"{what}: {error.StatusCode} {error.Status.Detail}");
        Assert.Contains("does not decode as ScoreRequest", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_undecodable_body_is_still_refused_unauthenticated_without_a_key()
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(apiKey: null);
        var method = new Method<byte[], byte[]>(MethodType.Unary, "loyalty.v1.ScoringService", "Score", Raw, Raw);

        var error = await Assert.ThrowsAsync<RpcException>(() => channel.CreateCallInvoker().AsyncUnaryCall(method, null, default, [0xff, 0xff]).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
    }

    [Fact]
    public async Task A_stream_answers_the_messages_before_an_undecodable_one_then_ends_invalid_argument_naming_its_position()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        using var channel = server.CreateChannel(ServerInstance.PosKey);
        var method = new Method<byte[], byte[]>(MethodType.DuplexStreaming, "loyalty.v1.ScoringService", "ScoreStream", Raw, Raw);
        var first = Requests.Score(memberId);
        var second = Requests.Score(memberId);

        using var call = channel.CreateCallInvoker().AsyncDuplexStreamingCall(method, null, default);
        await call.RequestStream.WriteAsync(first.ToByteArray());
        await call.RequestStream.WriteAsync(second.ToByteArray());
        await call.RequestStream.WriteAsync([0xff, 0xff, 0xff, 0xff, 0x0f]);
        await call.RequestStream.CompleteAsync();

        var answers = new List<ScoreStreamResponse>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None))
            {
                answers.Add(ScoreStreamResponse.Parser.ParseFrom(call.ResponseStream.Current));
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("Message 3 of the stream", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal([first.TransactionId, second.TransactionId], answers.Select(a => a.TransactionId));
        Assert.All(answers, a => Assert.Equal(45, a.Response.PointsEarned));
        Assert.Equal(2, await Ledger.CountAsync(memberId));
    }
}
