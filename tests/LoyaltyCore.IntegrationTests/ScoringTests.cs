using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

public sealed class ScoringTests
{
    [Fact]
    public async Task Score_answers_points_breakdown_balance_and_tier_and_its_row_is_committed_on_return()
    {
        var server = await ServerInstance.Shared;
        var memberId = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });

        var request = Requests.Score(memberId);
        var response = await server.Scoring.ScoreAsync(request);

        Assert.Equal(request.TransactionId, response.TransactionId);
        Assert.Equal(45, response.PointsEarned);
        Assert.Equal(45, response.Balance);
        Assert.Equal(4_520, response.SpendMinor);
        Assert.Equal("member", response.Tier);
        Assert.False(response.Replayed);
        Assert.Equal("2026.12.1", response.ProgramVersion);
        var line = Assert.Single(response.Breakdown);
        Assert.Equal("base-earn", line.RuleId);
        Assert.Equal(45, line.Points);
        Assert.False(string.IsNullOrWhiteSpace(line.Reason));

        // Durable before acknowledged: the row is there the moment the answer is.
        Assert.Equal(1, await Ledger.CountAsync(memberId, request.TransactionId));
        Assert.Equal(45, await Ledger.SumPointsAsync(memberId));
    }

    [Fact]
    public async Task The_purchase_that_crosses_a_threshold_upgrades_the_tier_atomically_and_the_next_earns_more()
    {
        var server = await ServerInstance.Shared;
        var memberId = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });

        var crossing = await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 50_000)));
        Assert.Equal("member", crossing.PreviousTier);
        Assert.Equal("silver", crossing.Tier);
        Assert.Equal(500, crossing.PointsEarned);
        Assert.Equal("gold", crossing.TierProgress.NextTier);
        Assert.Equal(150_000, crossing.TierProgress.Remaining);

        var next = await server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("cable", 1, 10_000)));
        Assert.Equal(125, next.PointsEarned); // 100 base + 25 for Silver x1.25
        Assert.Equal(["base-earn", "tier:silver"], next.Breakdown.Select(b => b.RuleId));

        var member = await server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });
        Assert.Equal("silver", member.Tier);
        Assert.Equal(625, member.Balance);
        Assert.Equal(60_000, member.LifetimeSpendMinor);
        Assert.Equal(625, await Ledger.SumPointsAsync(memberId));
    }

    [Fact]
    public async Task Enroll_is_idempotent_and_get_member_reports_enrolment()
    {
        var server = await ServerInstance.Shared;
        var memberId = Ids.Member();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        var first = await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });
        var again = await server.Members.EnrollAsync(new EnrollRequest { MemberId = memberId });

        Assert.True(first.Created);
        Assert.False(again.Created);
        Assert.Equal(first.Member.EnrolledAt, again.Member.EnrolledAt);
        Assert.InRange(first.Member.EnrolledAt.ToDateTimeOffset(), before, DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.Equal(0, first.Member.Balance);
        Assert.Equal("member", first.Member.Tier);
        Assert.Equal("silver", first.Member.TierProgress.NextTier);
    }

    [Fact]
    public async Task An_unknown_member_is_not_found_and_nothing_is_written()
    {
        var server = await ServerInstance.Shared;
        var memberId = Ids.Member();

        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Scoring.ScoreAsync(Requests.Score(memberId)).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId }).ResponseAsync);
        Assert.Equal(0, await Ledger.CountAsync(memberId));
    }
}
