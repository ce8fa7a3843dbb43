using System.Diagnostics;
using Grpc.Core;

namespace LoyaltyCore.LoadTests;

/// <summary>
/// Closed loop over unary calls: N callers, each sending its next request as soon as the previous one is answered.
/// Each caller owns its slot and traffic source, so the hot path takes no locks; latency is from send to answer, and
/// a call counts when it completes inside the measured window.
/// </summary>
internal static class ClosedUnaryLoad
{
    public static Task RunAsync(LoadContext context, UnaryInvoker invoker) =>
        Task.WhenAll(Enumerable.Range(0, context.Options.Concurrency).Select(i => CallerAsync(context, invoker, i)));

    private static async Task CallerAsync(LoadContext context, UnaryInvoker invoker, int index)
    {
        // Start on the thread pool, not inline in the loop that creates the callers.
        await Task.Yield();
        var source = new TrafficSource(context.Profile, index);
        var slot = new CallSlot(context.Profile.MaxLines);
        var channel = index % invoker.Channels;
        var window = context.Window;
        var cancellationToken = context.CancellationToken;
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            if (started >= window.StopAt)
            {
                return;
            }

            source.Next(slot);
            CallOutcome outcome;
            try
            {
                outcome = await invoker.InvokeAsync(slot, channel, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                context.RecordClientFailure(e);
                outcome = new CallOutcome(StatusCode.Unknown, false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                return;
            }

            var finished = Stopwatch.GetTimestamp();
            if (outcome.Code == StatusCode.OK)
            {
                slot.OfferForRetry(context.Profile.Retries);
            }

            if (window.Contains(finished) && context.Outcomes.Record(slot.Kind, slot.IsRetry, outcome))
            {
                LatencyHistogram.Record(context.Latency, started, finished);
            }
        }
    }
}

/// <summary>
/// Open loop over unary calls: request i is due at start + i / rate and is sent then, whatever is still outstanding
/// (no coordinated omission), and its latency runs from that scheduled time, so a stall of the server or of the
/// generator shows up in every request that should have been sent during it. At most --max-outstanding requests are
/// in flight; one due while that many are outstanding is not sent and counts as an error (ClientOverflow).
/// </summary>
internal sealed class OpenUnaryLoad
{
    private static readonly TimeSpan DrainPoll = TimeSpan.FromMilliseconds(5);

    private readonly LoadContext _context;
    private readonly UnaryInvoker _invoker;
    private readonly Stack<OpenCall> _free = new();
    private readonly Lock _gate = new();
    private int _created;
    private int _outstanding;

    public OpenUnaryLoad(LoadContext context, UnaryInvoker invoker)
    {
        _context = context;
        _invoker = invoker;
    }

    public async Task RunAsync()
    {
        // Pacing blocks its own thread (see Pacer), never a pool thread the calls' continuations need.
        await Task.Factory.StartNew(Pace, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        // Every call ends by its deadline, so the drain is bounded.
        var context = _context;
        var drainUntil = Stopwatch.GetTimestamp() + MeasurementWindow.ToTicks(context.Options.CallTimeout + TimeSpan.FromSeconds(5));
        while (Volatile.Read(ref _outstanding) > 0 && Stopwatch.GetTimestamp() < drainUntil)
        {
            await Task.Delay(DrainPoll, CancellationToken.None);
        }
    }

    private void Pace()
    {
        var context = _context;
        var window = context.Window;
        var source = new TrafficSource(context.Profile, 0);
        var channel = 0;
        foreach (var due in Pacer.Schedule(window, context.Options.Rate, context.CancellationToken))
        {
            var measured = window.Contains(due);
            if (!TryRent(out var call))
            {
                if (measured)
                {
                    context.Outcomes.RecordOverflow();
                }

                continue;
            }

            source.Next(call.Slot);
            _ = call.RunAsync(due, measured, channel);
            channel = (channel + 1) % _invoker.Channels;
        }
    }

    private bool TryRent(out OpenCall call)
    {
        lock (_gate)
        {
            if (!_free.TryPop(out call!))
            {
                if (_created >= _context.Options.MaxOutstanding)
                {
                    return false;
                }

                _created++;
                call = new OpenCall(this);
            }

            _outstanding++;
            return true;
        }
    }

    private void Return(OpenCall call)
    {
        lock (_gate)
        {
            _free.Push(call);
            _outstanding--;
        }
    }

    private sealed class OpenCall(OpenUnaryLoad owner)
    {
        public CallSlot Slot { get; } = new(owner._context.Profile.MaxLines);

        public async Task RunAsync(long due, bool measured, int channel)
        {
            var context = owner._context;
            try
            {
                var sent = Stopwatch.GetTimestamp();
                if (measured)
                {
                    LatencyHistogram.Record(context.SendLag, due, sent);
                }

                CallOutcome outcome;
                try
                {
                    outcome = await owner._invoker.InvokeAsync(Slot, channel, context.CancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    context.RecordClientFailure(e);
                    outcome = new CallOutcome(StatusCode.Unknown, false);
                }

                var finished = Stopwatch.GetTimestamp();
                if (outcome.Code == StatusCode.OK)
                {
                    Slot.OfferForRetry(context.Profile.Retries);
                }

                if (measured && !context.CancellationToken.IsCancellationRequested && context.Outcomes.Record(Slot.Kind, Slot.IsRetry, outcome))
                {
                    LatencyHistogram.Record(context.Latency, due, finished);
                }
            }
            catch (OperationCanceledException)
            {
                // Interrupted: the run reports what it measured so far.
            }
            finally
            {
                owner.Return(this);
            }
        }
    }
}
