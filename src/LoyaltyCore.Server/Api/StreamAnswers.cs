using System.Threading.Channels;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.Server.Api;

/// <summary>
/// Answers a bidirectional stream's messages strictly in request order, with up to a window of them in progress at
/// once (so they share batches like concurrent unary calls). Everything read before the stream ends or fails is still
/// answered, in order, before the call completes.
/// </summary>
internal static class StreamAnswers
{
    /// <param name="moveNext">Reads the next message (given its 1-based position); false at the end of the stream.</param>
    /// <param name="answerCurrent">Starts answering the message just read; never throws, a failure is its answer.</param>
    public static async Task InOrderAsync(
        int window,
        Func<int, Task<bool>> moveNext,
        Func<Task<ScoreStreamResponse>> answerCurrent,
        IServerStreamWriter<ScoreStreamResponse> responseStream,
        CancellationToken cancellationToken)
    {
        var inOrder = System.Threading.Channels.Channel.CreateBounded<Task<ScoreStreamResponse>>(new BoundedChannelOptions(window)
        {
            SingleReader = true,
            SingleWriter = true,
        });
        var writer = WriteAsync(inOrder.Reader, responseStream);
        var position = 0;
        try
        {
            while (await moveNext(position + 1))
            {
                position++;
                await inOrder.Writer.WriteAsync(answerCurrent(), cancellationToken);
            }
        }
        finally
        {
            inOrder.Writer.TryComplete();
            await writer;
        }
    }

    private static async Task WriteAsync(ChannelReader<Task<ScoreStreamResponse>> answers, IServerStreamWriter<ScoreStreamResponse> responseStream)
    {
        await foreach (var answer in answers.ReadAllAsync())
        {
            await responseStream.WriteAsync(await answer);
        }
    }
}
