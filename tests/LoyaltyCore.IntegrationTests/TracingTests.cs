using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Tracing exported over OTLP (HTTP/protobuf) to a collector stand-in that decodes what it receives.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task A_traced_call_exports_its_rpc_span_with_the_redis_apply_and_ledger_commit_spans_as_children()
    {
        await using var collector = OtlpCollector.Start();
        await using var server = await ServerInstance.StartAsync(s =>
        {
            s["Tracing:OtlpEndpoint"] = collector.Endpoint;
            s["Tracing:Protocol"] = "HttpProtobuf";
        });
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var callerSpan = traceId[..16];

        await server.Scoring.ScoreAsync(Requests.Score(memberId), new Metadata { { "traceparent", $"00-{traceId}-{callerSpan}-01" } });

        var spans = await collector.WaitForAsync(traceId, s => s.Any(x => x.Name == "ledger commit"));
        var rpc = Assert.Single(spans, s => s.ParentSpanId == callerSpan);
        Assert.Contains("ScoringService/Score", rpc.Name, StringComparison.Ordinal);
        Assert.Equal(rpc.SpanId, Assert.Single(spans, s => s.Name == "redis apply").ParentSpanId);
        Assert.Equal(rpc.SpanId, Assert.Single(spans, s => s.Name == "ledger commit").ParentSpanId);
    }

    [Fact]
    public async Task Without_an_endpoint_nothing_is_traced()
    {
        var server = await ServerInstance.Shared;
        Assert.Null(server.Services.GetService(typeof(OpenTelemetry.Trace.TracerProvider)));
        await server.Scoring.ScoreAsync(Requests.Score(await IdempotencyTests.EnrolledMemberAsync(server)));
    }
}

internal sealed record ExportedSpan(string TraceId, string SpanId, string ParentSpanId, string Name);

/// <summary>Receives OTLP/HTTP trace exports and decodes the spans' ids, parents and names from the protobuf.</summary>
internal sealed class OtlpCollector : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<ExportedSpan> _spans = [];
    private readonly Task _loop;

    private OtlpCollector(int port)
    {
        Endpoint = $"http://127.0.0.1:{port}/v1/traces";
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ReceiveAsync);
    }

    public string Endpoint { get; }

    public static OtlpCollector Start()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new OtlpCollector(port);
    }

    public async Task<IReadOnlyList<ExportedSpan>> WaitForAsync(string traceId, Func<IReadOnlyList<ExportedSpan>, bool> done)
    {
        // The exporter sends in batches, every 5 s by default.
        for (var attempt = 0; attempt < 300; attempt++)
        {
            List<ExportedSpan> trace;
            lock (_spans)
            {
                trace = _spans.Where(s => s.TraceId == traceId).ToList();
            }

            if (done(trace))
            {
                return trace;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No complete trace {traceId} was exported.");
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (HttpListenerException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ReceiveAsync()
    {
        while (_listener.IsListening)
        {
            var context = await _listener.GetContextAsync();
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            var spans = Decode(body.ToArray());
            lock (_spans)
            {
                _spans.AddRange(spans);
            }

            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>ExportTraceServiceRequest: resource_spans(1) > scope_spans(2) > spans(2) > trace_id(1), span_id(2), parent_span_id(4), name(5).</summary>
    private static IEnumerable<ExportedSpan> Decode(byte[] request)
    {
        foreach (var resource in Messages(request, 1))
        {
            foreach (var scope in Messages(resource, 2))
            {
                foreach (var span in Messages(scope, 2))
                {
                    string trace = string.Empty, id = string.Empty, parent = string.Empty, name = string.Empty;
                    var input = new CodedInputStream(span);
                    uint tag;
                    while ((tag = input.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(tag))
                        {
                            case 1: trace = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                            case 2: id = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                            case 4: parent = Convert.ToHexStringLower(input.ReadBytes().ToByteArray()); break;
                            case 5: name = input.ReadString(); break;
                            default: input.SkipLastField(); break;
                        }
                    }

                    yield return new ExportedSpan(trace, id, parent, name);
                }
            }
        }
    }

    private static List<byte[]> Messages(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }
}
