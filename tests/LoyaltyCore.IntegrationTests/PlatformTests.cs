using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class PlatformTests
{
    [Fact]
    public async Task Health_reports_serving_while_redis_and_the_ledger_answer()
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(apiKey: null);
        var health = new Health.HealthClient(channel);

        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Theory]
    [InlineData("readiness")]
    [InlineData("liveness")]
    [InlineData("loyalty.v1.ScoringService")]
    [InlineData("loyalty.v1.MemberService")]
    [InlineData("loyalty.v1.ProgramService")]
    [InlineData("loyalty.v1.ReportService")]
    public async Task Health_answers_by_service_name(string service)
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(apiKey: null);

        var response = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = service });

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Health_of_an_unknown_service_is_not_found()
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(apiKey: null);

        await RpcAssert.FailsWith(StatusCode.NotFound, () => new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest { Service = "no.such.Service" }).ResponseAsync);
    }

    [Fact]
    public async Task Health_reports_not_serving_when_the_ledger_is_down()
    {
        await using var server = await ServerInstance.StartAsync(settings =>
        {
            settings["Ledger:ConnectionString"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=loyalty;Timeout=2";
            settings["Ledger:MigrateOnStart"] = "false";
        });
        using var channel = server.CreateChannel(apiKey: null);

        var health = new Health.HealthClient(channel);
        var response = await health.CheckAsync(new HealthCheckRequest());

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, response.Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "readiness" })).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "loyalty.v1.ScoringService" })).Status);
        // Alive all the same: restarting the process would not bring PostgreSQL back.
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "liveness" })).Status);
    }

    [Fact]
    public async Task When_redis_is_down_health_is_not_serving_and_calls_fail_unavailable_without_writing()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(await ServerInstance.Shared);
        await using var server = await ServerInstance.StartAsync(s => s["HotState:Redis"] = "127.0.0.1:1,connectTimeout=500,syncTimeout=1000,asyncTimeout=1000");
        using var channel = server.CreateChannel(apiKey: null);

        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());
        var error = await RpcAssert.FailsWith(StatusCode.Unavailable, () => server.Scoring.ScoreAsync(Requests.Score(memberId)).ResponseAsync);

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, health.Status);
        Assert.Contains("nothing was changed", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
    }

    [Fact]
    public async Task When_redis_is_known_down_calls_fail_unavailable_at_once_rather_than_at_their_deadline()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(await ServerInstance.Shared);
        // The client library's own timeouts (5 s) left as they are: only the fail-fast policy can answer sooner.
        await using var server = await ServerInstance.StartAsync(s => s["HotState:Redis"] = "127.0.0.1:1,connectTimeout=200");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();

        var error = await RpcAssert.FailsWith(StatusCode.Unavailable, () => server.Scoring.ScoreAsync(Requests.Score(memberId), deadline: DateTime.UtcNow.AddSeconds(30)).ResponseAsync);

        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        Assert.True(elapsed < TimeSpan.FromSeconds(4), $"answered after {elapsed}");
        Assert.Contains("hot state store is unavailable", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
    }

    [Fact]
    public async Task Reflection_lists_the_public_services()
    {
        var server = await ServerInstance.Shared;
        using var channel = server.CreateChannel(apiKey: null);
        using var call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = string.Empty });
        await call.RequestStream.CompleteAsync();
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();

        Assert.Contains("loyalty.v1.ScoringService", services);
        Assert.Contains("loyalty.v1.MemberService", services);
        Assert.Contains("grpc.health.v1.Health", services);
    }

    [Fact]
    public async Task Calls_without_a_valid_key_or_the_right_role_are_refused()
    {
        var server = await ServerInstance.Shared;
        var request = Requests.Score(Ids.Member());
        using var anonymous = server.CreateChannel(apiKey: null);
        using var wrongKey = server.CreateChannel("not-a-key-of-this-server");
        using var admin = server.CreateChannel(ServerInstance.AdminKey);

        // Real gRPC statuses with a message, not an HTTP status the client library has to translate.
        var missing = await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => new ScoringService.ScoringServiceClient(anonymous).ScoreAsync(request).ResponseAsync);
        var unknown = await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => new ScoringService.ScoringServiceClient(wrongKey).ScoreAsync(request).ResponseAsync);
        var forbidden = await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => new ScoringService.ScoringServiceClient(admin).ScoreAsync(request).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => new MemberService.MemberServiceClient(anonymous).GetMemberAsync(new GetMemberRequest { MemberId = "x" }).ResponseAsync);

        Assert.StartsWith("Missing or unknown API key", missing.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("Missing or unknown API key", unknown.Status.Detail, StringComparison.Ordinal);
        Assert.Equal("The client 'admin-test' does not have the role this call needs.", forbidden.Status.Detail);
        Assert.Equal(0, await Ledger.CountAsync(request.MemberId));
    }

    [Fact]
    public async Task The_metrics_port_does_not_serve_grpc_and_the_grpc_port_does_not_serve_metrics()
    {
        var server = await ServerInstance.Shared;
        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{server.MetricsPort}/loyalty.v1.ScoringService/Score"));
        Assert.NotEqual(System.Net.HttpStatusCode.OK, response.StatusCode);

        using var http2 = new HttpClient { DefaultRequestVersion = System.Net.HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var onGrpcPort = await http2.GetAsync(new Uri($"http://127.0.0.1:{server.GrpcPort}/metrics"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, onGrpcPort.StatusCode);
    }
}

/// <summary>Runs alone, so the counters it reads move only with its own calls (the registry is per process).</summary>
[Collection(nameof(GroupCommitTests))]
public sealed class MetricsTests
{
    [Fact]
    public async Task Each_call_moves_the_grpc_metrics_by_method_and_code_name_and_the_kpis_by_channel_and_tier_by_exactly_its_own_amounts()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var before = await MetricSamples.ScrapeAsync(server);

        var request = Requests.Score(memberId);
        var score = await server.Scoring.ScoreAsync(request);
        await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 5));
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Scoring.ScoreAsync(Requests.Score(Ids.Member())).ResponseAsync);
        Assert.True((await server.Scoring.ScoreAsync(request)).Replayed);
        using (var stream = server.Scoring.ScoreStream())
        {
            await stream.RequestStream.WriteAsync(Requests.Score(memberId));
            await stream.RequestStream.CompleteAsync();
            Assert.True(await stream.ResponseStream.MoveNext());
            Assert.False(await stream.ResponseStream.MoveNext());
        }

        var after = await MetricSamples.ScrapeAsync(server);
        Assert.Equal(45, score.PointsEarned);
        const string Scoring = "grpc_service=\"loyalty.v1.ScoringService\"";
        Assert.Equal(2, after.Since(before, $"grpc_server_handled_total{{grpc_type=\"unary\",{Scoring},grpc_method=\"Score\",grpc_code=\"OK\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_handled_total{{grpc_type=\"unary\",{Scoring},grpc_method=\"Score\",grpc_code=\"NOT_FOUND\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_handled_total{{grpc_type=\"unary\",{Scoring},grpc_method=\"Redeem\",grpc_code=\"OK\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_handled_total{{grpc_type=\"bidi_stream\",{Scoring},grpc_method=\"ScoreStream\",grpc_code=\"OK\"}}"));
        Assert.Equal(3, after.Since(before, $"grpc_server_started_total{{grpc_type=\"unary\",{Scoring},grpc_method=\"Score\"}}"));
        Assert.Equal(3, after.Since(before, $"grpc_server_handling_seconds_count{{grpc_type=\"unary\",{Scoring},grpc_method=\"Score\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_msg_received_total{{grpc_type=\"bidi_stream\",{Scoring},grpc_method=\"ScoreStream\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_msg_sent_total{{grpc_type=\"bidi_stream\",{Scoring},grpc_method=\"ScoreStream\"}}"));
        // The replay is not scored again; the streamed purchase is.
        Assert.Equal(2, after.Since(before, "loyalty_transactions_scored_total{channel=\"store\",tier=\"member\"}"));
        Assert.Equal(90, after.Since(before, "loyalty_points_issued_total{channel=\"store\",tier=\"member\"}"));
        Assert.Equal(5, after.Since(before, "loyalty_points_redeemed_total{channel=\"store\",tier=\"member\"}"));
        Assert.Equal(2 * 4_520, after.Since(before, "loyalty_spend_minor_units_total{channel=\"store\"}"));
        Assert.Equal(1, after.Since(before, "loyalty_transaction_replays_total{source=\"hot_state\"}"));
        Assert.Equal(3, after.Since(before, "loyalty_ledger_rows_per_commit_sum"));
        // One commit each for the scores and the redemption; the replay may recommit a pending copy not yet dropped.
        Assert.True(after.Since(before, "loyalty_ledger_commit_duration_seconds_count") is >= 3 and <= 4);
        Assert.True(after.Since(before, "loyalty_redis_script_duration_seconds_count{script=\"apply\"}") >= 5);
        var exposition = await server.ScrapeMetricsAsync();
        // Other servers of this test process activate their own programs in the same registry: presence only.
        Assert.Contains("loyalty_program_info{program=\"sample\",version=\"2026.12.1\"}", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain(memberId, exposition, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_its_deadline_cut_off_is_counted_as_deadline_exceeded_and_a_refused_key_as_unauthenticated()
    {
        await using var server = await ServerInstance.StartAsync();
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        server.Get<Server.Transactions.PipelineProbes>().BeforeApply = (_, _) => Task.Delay(TimeSpan.FromMilliseconds(600), CancellationToken.None);
        var before = await MetricSamples.ScrapeAsync(server);

        await RpcAssert.FailsWith(StatusCode.DeadlineExceeded, () => server.Scoring.ScoreAsync(Requests.Score(memberId), deadline: DateTime.UtcNow.AddMilliseconds(200)).ResponseAsync);
        var stranger = new ScoringService.ScoringServiceClient(server.CreateChannel("not-a-key-0123456789"));
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => stranger.ScoreAsync(Requests.Score(memberId)).ResponseAsync);

        // The handler returns once its probe lets it go, after the client gave up: it is still not an OK.
        const string Score = "grpc_type=\"unary\",grpc_service=\"loyalty.v1.ScoringService\",grpc_method=\"Score\"";
        MetricSamples after;
        var waited = 0;
        do
        {
            await Task.Delay(100);
            after = await MetricSamples.ScrapeAsync(server);
        }
        while (after.Since(before, $"grpc_server_handled_total{{{Score},grpc_code=\"DEADLINE_EXCEEDED\"}}") == 0 && ++waited < 50);

        Assert.Equal(1, after.Since(before, $"grpc_server_handled_total{{{Score},grpc_code=\"DEADLINE_EXCEEDED\"}}"));
        Assert.Equal(1, after.Since(before, $"grpc_server_handled_total{{{Score},grpc_code=\"UNAUTHENTICATED\"}}"));
        Assert.Equal(0, after.Since(before, $"grpc_server_handled_total{{{Score},grpc_code=\"OK\"}}"));
    }

    [Fact]
    public async Task Publishing_a_version_removes_the_retired_versions_info_series()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var first = (await Programs.PublishAsync(server, Programs.Document(Programs.Version()))).Version;
        Assert.Contains($"loyalty_program_info{{program=\"test\",version=\"{first}\"}} 1", await server.ScrapeMetricsAsync(), StringComparison.Ordinal);

        var second = (await Programs.PublishAsync(server, Programs.Document(Programs.Version()))).Version;

        var exposition = await server.ScrapeMetricsAsync();
        Assert.Contains($"loyalty_program_info{{program=\"test\",version=\"{second}\"}} 1", exposition, StringComparison.Ordinal);
        Assert.DoesNotContain($"version=\"{first}\"", exposition, StringComparison.Ordinal);
    }
}
