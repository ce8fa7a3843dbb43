using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>The member-facing mechanics through the real API, against one program using all of them.</summary>
public sealed class MechanicsTests : IAsyncLifetime
{
    private ServerInstance _server = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(_server, Programs.Document(Programs.Version(), """
            "caps": { "perMemberPerDay": 3000 },
            "memberships": [ { "id": "plus", "name": "Plus", "priceMinor": 4900, "durationDays": 365, "multiplier": 1.2,
                               "segmentPrices": [ { "segment": "student", "priceMinor": 2900 } ] } ],
            "rules": [
              { "id": "students", "name": "Students x2", "type": "multiplier", "factor": 2, "when": { "segments": ["student"] } },
              { "id": "plus-bonus", "name": "Plus bonus", "type": "bonus", "points": 10, "when": { "membership": "plus" } },
              { "id": "red-summer", "name": "Red summer x3", "type": "multiplier", "factor": 3,
                "lines": { "labels": { "color": ["red"], "season": ["summer"] } }, "minimumSpend": 1000 },
              { "id": "spring-code", "name": "SPRING24", "type": "bonus", "points": 25,
                "when": { "basketContains": { "labels": { "promo": ["SPRING24"] } } } }
            ],
            "exclusions": { "labels": { "promo": ["STAFF"] } },
            "objectives": [ { "id": "ca-n1", "steps": [ { "percent": 100, "points": 1000 }, { "percent": 110, "points": 1500 } ] } ],
            "referral": { "referrerPoints": 500, "refereePoints": 200, "minimumSpend": 2000 }
            """));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_late_upload_between_two_of_todays_purchases_does_not_reopen_todays_daily_cap()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var now = DateTimeOffset.UtcNow;

        var first = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: now, lines: Requests.Line("tv", 1, 200_000)));
        var late = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: now.AddHours(-26), lines: Requests.Line("tv", 1, 100_000)));
        var second = await _server.Scoring.ScoreAsync(Requests.Score(memberId, occurredAt: now, lines: Requests.Line("tv", 1, 200_000)));

        Assert.Equal(2_000, first.PointsEarned);
        Assert.True(late.PointsEarned > 0);
        // 3,000 a day: today had 2,000, whatever the upload from an earlier day did.
        Assert.Equal(1_000, second.PointsEarned);
        Assert.Equal(await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString), await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task Line_labels_sent_by_the_till_select_lines_for_rules_and_exclusions()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var red = Requests.Line("dress", 1, 2_000);
        red.Labels.Add("color", "red");
        red.Labels.Add("season", "summer");
        var coded = Requests.Line("shirt", 1, 1_000);
        coded.Labels.Add("promo", "SPRING24");
        var staff = Requests.Line("coat", 1, 10_000);
        staff.Labels.Add("promo", "STAFF");
        var request = Requests.Score(memberId, lines: [red, coded, staff]);

        var response = await _server.Scoring.ScoreAsync(request);
        var retried = await _server.Scoring.ScoreAsync(request);

        // Earning spend 30.00 (the STAFF line is excluded): 30 base, +40 for the red summer line (x3), 25 for the code.
        Assert.Equal([("base-earn", 30L), ("red-summer", 40L), ("spring-code", 25L)], response.Breakdown.Select(b => (b.RuleId, b.Points)));
        Assert.Equal(13_000, response.SpendMinor);
        Assert.True(retried.Replayed);
        Assert.Equal(response.PointsEarned, retried.PointsEarned);
        Assert.Equal(95, await Ledger.SumPointsAsync(memberId, _server.LedgerConnectionString));
        Assert.Equal(95, await HotState.BalanceAsync(memberId));
    }

    [Fact]
    public async Task A_student_buys_the_membership_at_the_student_price_and_a_retry_keeps_it()
    {
        var student = await IdempotencyTests.EnrolledMemberAsync(_server);
        var other = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = student, Segments = new SegmentList { Values = { "newsletter", "student" } } });
        PurchaseMembershipRequest Purchase(string memberId) => new()
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, MembershipId = "plus", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        var studentPurchase = Purchase(student);

        var discounted = await _server.Members.PurchaseMembershipAsync(studentPurchase);
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = student, Segments = new SegmentList() });
        var retried = await _server.Members.PurchaseMembershipAsync(studentPurchase);
        var standard = await _server.Members.PurchaseMembershipAsync(Purchase(other));

        Assert.Equal((2900L, "student"), (discounted.PriceMinor, discounted.PriceSegment));
        Assert.True(retried.Replayed);
        Assert.Equal((2900L, "student"), (retried.PriceMinor, retried.PriceSegment));
        Assert.Equal((4900L, ""), (standard.PriceMinor, standard.PriceSegment));
    }

    [Fact]
    public async Task Segments_set_on_a_member_unlock_their_exclusive_rules()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var updated = await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Segments = new SegmentList { Values = { "student" } } });
        var response = await _server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(["student"], updated.Segments);
        Assert.Equal(["base-earn", "students"], response.Breakdown.Select(b => b.RuleId));
        Assert.Equal(90, response.PointsEarned);
        await RpcAssert.RejectsField("segments.values[0]", () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, Segments = new SegmentList { Values = { "a,b" } } }).ResponseAsync);
    }

    [Fact]
    public async Task A_bought_membership_brings_its_benefits_until_it_expires()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        var purchase = new PurchaseMembershipRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, MembershipId = "plus", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };

        var bought = await _server.Members.PurchaseMembershipAsync(purchase);
        var retried = await _server.Members.PurchaseMembershipAsync(purchase);
        var response = await _server.Scoring.ScoreAsync(Requests.Score(memberId));
        var member = await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId });

        Assert.True(retried.Replayed);
        Assert.Equal(bought.ExpiresAt, retried.ExpiresAt);
        Assert.InRange(bought.ExpiresAt.ToDateTimeOffset(), DateTimeOffset.UtcNow.AddDays(364), DateTimeOffset.UtcNow.AddDays(366));
        Assert.Equal(["base-earn", "membership:plus", "plus-bonus"], response.Breakdown.Select(b => b.RuleId));
        Assert.Equal(45 + 9 + 10, response.PointsEarned);
        Assert.Equal("plus", member.Membership);
        Assert.Equal(bought.ExpiresAt, member.MembershipExpiresAt);
        await RpcAssert.RejectsField("membership_id", () => _server.Members.PurchaseMembershipAsync(new PurchaseMembershipRequest
        {
            TransactionId = Ids.Transaction(), MemberId = memberId, MembershipId = "platinum", OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }).ResponseAsync);
    }

    [Fact]
    public async Task Objective_steps_fire_once_each_and_survive_redis_forgetting_the_member()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        await _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = memberId, ReferenceRevenueMinor = 10_000 });

        var reaching = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("pallet", 1, 10_000)));
        var after = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("box", 1, 500)));
        await HotState.ForgetMemberAsync(memberId);
        var beyond = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("box", 1, 600)));
        var later = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("box", 1, 600)));

        Assert.Contains(reaching.Breakdown, b => b.RuleId == "ca-n1@100" && b.Points == 1000);
        Assert.DoesNotContain(after.Breakdown, b => b.RuleId.StartsWith("ca-n1", StringComparison.Ordinal));
        Assert.Contains(beyond.Breakdown, b => b.RuleId == "ca-n1@110" && b.Points == 1500);
        Assert.DoesNotContain(later.Breakdown, b => b.RuleId.StartsWith("ca-n1", StringComparison.Ordinal));
        Assert.Equal(10_000, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = memberId })).ReferenceRevenueMinor);
    }

    [Fact]
    public async Task A_referred_members_first_qualifying_purchase_rewards_both_once()
    {
        var referrer = await IdempotencyTests.EnrolledMemberAsync(_server);
        var referred = Ids.Member();
        await _server.Members.EnrollAsync(new EnrollRequest { MemberId = referred, ReferrerMemberId = referrer });

        var small = await _server.Scoring.ScoreAsync(Requests.Score(referred, lines: Requests.Line("gum", 1, 150)));
        var qualifying = Requests.Score(referred);
        var first = await _server.Scoring.ScoreAsync(qualifying);
        var retry = await _server.Scoring.ScoreAsync(qualifying);
        var next = await _server.Scoring.ScoreAsync(Requests.Score(referred));

        Assert.DoesNotContain(small.Breakdown, b => b.RuleId == "referral");
        Assert.Contains(first.Breakdown, b => b.RuleId == "referral" && b.Points == 200);
        Assert.True(retry.Replayed);
        Assert.DoesNotContain(next.Breakdown, b => b.RuleId == "referral");
        Assert.Equal(500, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = referrer })).Balance);
        Assert.Equal(referrer, (await _server.Members.GetMemberAsync(new GetMemberRequest { MemberId = referred })).ReferredBy);
        await RpcAssert.RejectsField("referrer_member_id", () => _server.Members.EnrollAsync(new EnrollRequest { MemberId = Ids.Member(), ReferrerMemberId = Ids.Member() }).ResponseAsync);
    }

    [Fact]
    public async Task The_daily_cap_limits_points_across_a_members_purchases_that_day()
    {
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);

        var first = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("tv", 1, 250_000)));
        var second = await _server.Scoring.ScoreAsync(Requests.Score(memberId, lines: Requests.Line("sofa", 1, 100_000)));
        var third = await _server.Scoring.ScoreAsync(Requests.Score(memberId));

        Assert.Equal(2500, first.PointsEarned);
        Assert.Equal("gold", first.Tier);
        Assert.Equal(500, second.PointsEarned); // 1000 base + 500 for Gold, cut at the 3000 points of the day
        Assert.Contains("daily cap", second.Breakdown[0].Reason, StringComparison.Ordinal);
        Assert.Equal(0, third.PointsEarned);
        Assert.Equal(3000, third.Balance);
    }

    [Fact]
    public async Task Profile_calls_validate_their_input()
    {
        await RpcAssert.FailsWith(StatusCode.NotFound, () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = Ids.Member(), ReferenceRevenueMinor = 1 }).ResponseAsync);
        await RpcAssert.RejectsField("segments", () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = Ids.Member() }).ResponseAsync);
        await RpcAssert.RejectsField("reference_revenue_minor", () => _server.Members.UpdateMemberAsync(new UpdateMemberRequest { MemberId = Ids.Member(), ReferenceRevenueMinor = -1 }).ResponseAsync);
    }
}
