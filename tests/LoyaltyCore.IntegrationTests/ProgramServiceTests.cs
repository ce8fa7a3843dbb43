using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class ProgramServiceTests
{
    [Fact]
    public async Task A_version_stored_before_the_repeated_entry_check_still_activates_but_cannot_be_published_anew()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var version = Programs.Version();
        var document = Programs.Document(version, """
            "rules": [ { "id": "web-visit", "type": "bonus", "points": 7, "when": { "channels": ["web", "web"] } } ]
            """);

        var refused = await RpcAssert.FailsWith(StatusCode.InvalidArgument, () => Programs.Admin(server).PublishProgramAsync(new PublishProgramRequest { Document = document }).ResponseAsync);
        // As a server of an earlier release would have stored it.
        await server.Get<Server.Ledger.LedgerStore>().PublishProgramAsync("test", version, document, CancellationToken.None);
        await server.Get<Server.Programs.ProgramProvider>().RefreshAsync(CancellationToken.None);
        var active = await Programs.Admin(server).GetActiveProgramAsync(new GetActiveProgramRequest());

        Assert.Contains("'web' is listed twice", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(version, active.Version);
    }

    [Fact]
    public async Task Only_admins_may_administer_programs()
    {
        var server = await ServerInstance.Shared;
        var asPos = new ProgramService.ProgramServiceClient(server.CreateChannel(ServerInstance.PosKey));
        using var anonymous = server.CreateChannel(apiKey: null);

        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => asPos.PublishProgramAsync(new PublishProgramRequest { Document = "{}" }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => new ProgramService.ProgramServiceClient(anonymous).GetActiveProgramAsync(new GetActiveProgramRequest()).ResponseAsync);
    }

    [Fact]
    public async Task The_active_program_is_the_published_version_with_its_document_and_activation_time()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var version = Programs.Version();
        var document = Programs.Document(version);
        var publishedAt = DateTimeOffset.UtcNow;

        var published = await Programs.PublishAsync(server, document);
        var active = await Programs.Admin(server).GetActiveProgramAsync(new GetActiveProgramRequest());

        Assert.Equal(published, active);
        Assert.Equal(version, active.Version);
        Assert.Equal("test", active.ProgramId);
        Assert.Equal(document, active.Document);
        Assert.InRange(active.ActivatedAt.ToDateTimeOffset(), publishedAt.AddMinutes(-1), DateTimeOffset.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task An_invalid_document_is_reported_by_path_and_never_activated()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var admin = Programs.Admin(server);
        var before = await admin.GetActiveProgramAsync(new GetActiveProgramRequest());
        var document = Programs.Document(Programs.Version(), """
            "rules": [
              { "id": "ok", "type": "bonus", "points": 5 },
              { "id": "backwards", "type": "bonus", "points": 5, "window": { "start": "2026-12-01T00:00", "end": "2026-11-01T00:00" } }
            ]
            """);

        var validation = await admin.ValidateProgramAsync(new ValidateProgramRequest { Document = document });
        var badRequest = await RpcAssert.RejectsField("document.rules[1].window.end", () => admin.PublishProgramAsync(new PublishProgramRequest { Document = document }).ResponseAsync);

        Assert.False(validation.Valid);
        Assert.Contains("rules[1].window.end: before start", validation.Errors);
        Assert.Equal("before start", badRequest.FieldViolations.Single(v => v.Field == "document.rules[1].window.end").Description);
        Assert.Equal(before.Version, (await admin.GetActiveProgramAsync(new GetActiveProgramRequest())).Version);
    }

    [Fact]
    public async Task A_published_version_is_used_by_the_next_score_and_recorded_in_its_ledger_row()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var admin = Programs.Admin(server);
        var version = Programs.Version();
        var document = Programs.Document(version, """
            "rules": [ { "id": "web-bonus", "name": "Web order bonus", "type": "bonus", "points": 10, "when": { "channels": ["store"] } } ]
            """);

        var published = await admin.PublishProgramAsync(new PublishProgramRequest { Document = document });
        var again = await admin.PublishProgramAsync(new PublishProgramRequest { Document = document });
        var conflict = await RpcAssert.FailsWith(StatusCode.AlreadyExists, () => admin.PublishProgramAsync(new PublishProgramRequest { Document = document.Replace("\"points\": 10", "\"points\": 11", StringComparison.Ordinal) }).ResponseAsync);

        Assert.True(published.Created);
        Assert.False(again.Created);
        Assert.Contains(version, conflict.Status.Detail, StringComparison.Ordinal);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var response = await server.Scoring.ScoreAsync(Requests.Score(memberId));
        Assert.Equal(version, response.ProgramVersion);
        Assert.Equal(55, response.PointsEarned);
        Assert.Equal(["base-earn", "web-bonus"], response.Breakdown.Select(b => b.RuleId));
        Assert.Equal((version, "base-earn,web-bonus"), await Ledger.VersionAndRulesAsync(server.LedgerConnectionString, memberId));
    }

    [Fact]
    public async Task Simulate_explains_a_purchase_without_changing_anything()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        var admin = Programs.Admin(server);
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), """
            "rules": [ { "id": "students", "type": "multiplier", "factor": 2, "when": { "segments": ["student"] } } ]
            """));
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        await server.Scoring.ScoreAsync(Requests.Score(memberId));

        var forMember = await admin.SimulateAsync(new SimulateRequest { MemberId = memberId, Purchase = Requests.Score(memberId) });
        var forState = await admin.SimulateAsync(new SimulateRequest
        {
            Purchase = Requests.Score(string.Empty),
            Member = new SimulatedMember { Tier = "gold", LifetimeSpendMinor = 300_000, Segments = { "student" }, Balance = 10 },
        });

        Assert.Equal(90, forMember.Balance);
        Assert.Equal(45, forMember.PointsEarned);
        Assert.Equal(["base-earn", "tier:gold", "students"], forState.Breakdown.Select(b => b.RuleId));
        Assert.Equal(45 + 22 + 45, forState.PointsEarned);
        Assert.Equal(10 + 112, forState.Balance);
        Assert.Equal(45, (await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).Balance);
        Assert.Equal(1, await Ledger.CountAsync(memberId, database: server.LedgerConnectionString));
    }
}
