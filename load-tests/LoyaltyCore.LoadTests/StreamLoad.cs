using System.Diagnostics;
using Grpc.Core;
using LoyaltyCore.Contracts.Bench.V1;
using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// ScoreStream load: S concurrent bidi streams, each with up to W requests outstanding. The server answers each
/// stream in request order, so every stream keeps a ring of its outstanding requests and matches each answer to the
/// oldest one; latency runs from the send (closed loop) or the scheduled time (open loop) to the answer.
/// </summary>
internal sealed class StreamLoad
{
    private readonly LoadContext _context;
    private readonly StreamWorker[] _workers;

    public StreamLoad(LoadContext context, GrpcConnections connections)
    {
        _context = context;
        var opens = connections.Channels.Select(c => OpenerFor(context.Options.TargetRpc, c)).ToArray();
        _workers = new StreamWorker[context.Options.Streams];
        for (var i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new StreamWorker(context, opens[i % opens.Length], connections.Headers, i);
        }
    }

    private static Func<CallOptions, AsyncDuplexStreamingCall<ScoreRequest, ScoreStreamResponse>> OpenerFor(TargetRpc target, ChannelBase channel)
    {
        if (target == TargetRpc.Stream)
        {
            var scoring = new ScoringService.ScoringServiceClient(channel);
            return options => scoring.ScoreStream(options);
        }

        var echo = new EchoService.EchoServiceClient(channel);
        return target == TargetRpc.EchoDurableStream ? options => echo.EchoDurableStream(options) : options => echo.EchoStream(options);
    }

    public async Task RunAsync()
    {
        try
        {
            await RunStreamsAsync();
        }
        finally
        {
            foreach (var worker in _workers)
            {
                worker.Dispose();
            }
        }
    }

    private async Task RunStreamsAsync()
    {
        if (_context.Options.Mode == LoadMode.Closed)
        {
            await Task.WhenAll(_workers.Select(w => w.RunClosedAsync()));
            return;
        }

        var sessions = _workers.Select(w => w.RunOpenAsync()).ToArray();
        try
        {
            // Pacing blocks its own thread (see Pacer), never a pool thread the streams need.
            await Task.Factory.StartNew(Dispatch, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        finally
        {
            foreach (var worker in _workers)
            {
                worker.Finish();
            }

            await Task.WhenAll(sessions);
        }
    }

    /// <summary>Open loop: each request at its scheduled time, to the next stream with room in its window.</summary>
    private void Dispatch()
    {
        var context = _context;
        var window = context.Window;
        var source = new TrafficSource(context.Profile, 0);
        var next = 0;
        foreach (var due in Pacer.Schedule(window, context.Options.Rate, context.CancellationToken))
        {
            var measured = window.Contains(due);
            var sent = false;
            for (var tried = 0; tried < _workers.Length && !sent; tried++)
            {
                sent = _workers[next].TryEnqueue(source, due, measured);
                next = (next + 1) % _workers.Length;
            }

            if (!sent && measured)
            {
                context.Outcomes.RecordOverflow();
            }
        }
    }

    private sealed class StreamWorker : IDisposable
    {
        private readonly LoadContext _context;
        private readonly Func<CallOptions, AsyncDuplexStreamingCall<ScoreRequest, ScoreStreamResponse>> _open;
        private readonly Metadata _headers;
        private readonly int _index;
        private readonly int _capacity;
        private readonly CallSlot[] _ring;
        private readonly long[] _timestamps;
        private readonly bool[] _measured;
        private readonly Lock _gate = new();
        private readonly SemaphoreSlim _room;
        private readonly SemaphoreSlim _ready = new(0);
        private long _head;
        private long _tail;
        private bool _ended;
        private bool _finishing;

        public StreamWorker(LoadContext context, Func<CallOptions, AsyncDuplexStreamingCall<ScoreRequest, ScoreStreamResponse>> open, Metadata headers, int index)
        {
            _context = context;
            _open = open;
            _headers = headers;
            _index = index;
            _capacity = context.Options.StreamWindow;
            _ring = new CallSlot[_capacity];
            for (var i = 0; i < _ring.Length; i++)
            {
                _ring[i] = new CallSlot(context.Profile.MaxLines);
            }

            _timestamps = new long[_capacity];
            _measured = new bool[_capacity];
            _room = new SemaphoreSlim(_capacity, _capacity);
        }

        /// <summary>Closed loop: keeps the window full until the end of the run, then completes the stream.</summary>
        public async Task RunClosedAsync()
        {
            await Task.Yield();
            var source = new TrafficSource(_context.Profile, _index);
            using var session = CancellationTokenSource.CreateLinkedTokenSource(_context.CancellationToken);
            using var call = _open(new CallOptions(_headers, cancellationToken: _context.CancellationToken));
            var reader = ReadAsync(call.ResponseStream, closedLoop: true, session);
            try
            {
                var stopAt = _context.Window.StopAt;
                while (true)
                {
                    await _room.WaitAsync(session.Token);
                    var now = Stopwatch.GetTimestamp();
                    if (now >= stopAt)
                    {
                        break;
                    }

                    var index = (int)(_tail % _capacity);
                    var slot = _ring[index];
                    source.Next(slot);
                    _timestamps[index] = now;
                    // Published before the write: the answer can arrive before WriteAsync returns.
                    Volatile.Write(ref _tail, _tail + 1);
                    await call.RequestStream.WriteAsync(slot.Score);
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException)
            {
                // The stream broke (the reader reports how) or the run was interrupted.
            }

            await reader;
        }

        /// <summary>Open loop: writes what the dispatcher enqueues, in order, until <see cref="Finish"/>.</summary>
        public async Task RunOpenAsync()
        {
            await Task.Yield();
            using var session = CancellationTokenSource.CreateLinkedTokenSource(_context.CancellationToken);
            using var call = _open(new CallOptions(_headers, cancellationToken: _context.CancellationToken));
            var reader = ReadAsync(call.ResponseStream, closedLoop: false, session);
            long written = 0;
            try
            {
                while (true)
                {
                    await _ready.WaitAsync(session.Token);
                    if (written == Volatile.Read(ref _tail))
                    {
                        // Released by Finish, with nothing left to write.
                        break;
                    }

                    var index = (int)(written % _capacity);
                    if (_measured[index])
                    {
                        LatencyHistogram.Record(_context.SendLag, _timestamps[index], Stopwatch.GetTimestamp());
                    }

                    await call.RequestStream.WriteAsync(_ring[index].Score);
                    written++;
                }

                await call.RequestStream.CompleteAsync();
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException)
            {
                // As in the closed loop.
            }

            await reader;
        }

        /// <summary>Dispatcher only: queues the next request if the stream is alive and has room.</summary>
        public bool TryEnqueue(TrafficSource source, long due, bool measured)
        {
            lock (_gate)
            {
                if (_ended || _finishing || _tail - Volatile.Read(ref _head) >= _capacity)
                {
                    return false;
                }

                var index = (int)(_tail % _capacity);
                source.Next(_ring[index]);
                _timestamps[index] = due;
                _measured[index] = measured;
                Volatile.Write(ref _tail, _tail + 1);
            }

            _ready.Release();
            return true;
        }

        public void Dispose()
        {
            _room.Dispose();
            _ready.Dispose();
        }

        /// <summary>Open loop: nothing more will be enqueued; the writer completes the stream once it has caught up.</summary>
        public void Finish()
        {
            lock (_gate)
            {
                _finishing = true;
            }

            _ready.Release();
        }

        private async Task ReadAsync(IAsyncStreamReader<ScoreStreamResponse> responses, bool closedLoop, CancellationTokenSource session)
        {
            var context = _context;
            try
            {
                while (await responses.MoveNext(CancellationToken.None))
                {
                    var finished = Stopwatch.GetTimestamp();
                    var head = _head;
                    var index = (int)(head % _capacity);
                    var slot = _ring[index];
                    var answer = responses.Current;
                    var outcome = answer.ResultCase == ScoreStreamResponse.ResultOneofCase.Response
                        ? new CallOutcome(StatusCode.OK, answer.Response.Replayed)
                        : new CallOutcome((StatusCode)(answer.Error?.Code ?? (int)StatusCode.Unknown), false);
                    if (outcome.Code == StatusCode.OK)
                    {
                        slot.OfferForRetry(context.Profile.Retries);
                    }

                    var measured = closedLoop ? context.Window.Contains(finished) : _measured[index];
                    if (measured && context.Outcomes.Record(CallKind.Score, slot.IsRetry, outcome))
                    {
                        LatencyHistogram.Record(context.Latency, _timestamps[index], finished);
                    }

                    Volatile.Write(ref _head, head + 1);
                    if (closedLoop)
                    {
                        _room.Release();
                    }
                }
            }
            catch (RpcException e) when (!context.CancellationToken.IsCancellationRequested)
            {
                context.RecordClientFailure(e);
            }
            catch (RpcException)
            {
                // Interrupted.
            }
            finally
            {
                long unanswered;
                lock (_gate)
                {
                    _ended = true;
                    unanswered = Volatile.Read(ref _tail) - _head;
                }

                if (unanswered > 0 && !context.CancellationToken.IsCancellationRequested)
                {
                    context.Outcomes.RecordUnanswered(unanswered);
                }

                // Unblocks a writer still waiting for room or for work.
                await session.CancelAsync();
            }
        }
    }
}
