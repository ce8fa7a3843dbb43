using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>MemberService.ListTransactions: a member's ledger rows, newest first, in pages, filtered.</summary>
public sealed class HistoryTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static async Task<(ServerInstance Server, string MemberId)> MemberWithHistoryAsync()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);
        var support = new SupportService.SupportServiceClient(server.CreateChannel(ServerInstance.SupportKey));
        await server.Scoring.ScoreAsync(Requests.Score(memberId, "h-1", Now.AddHours(-5), Requests.Line("tv", 1, 30_000)));
        await server.Scoring.ScoreAsync(Requests.Score(memberId, "h-2", Now.AddHours(-4), Requests.Line("cable", 2, 1_000)));
        await server.Scoring.RedeemAsync(Requests.Redeem(memberId, 50, "h-3"));
        var adjustment = AdjustmentTests.Adjustment(memberId, -20, AdjustmentReason.Correction, note: "Double scan on h-2");
        adjustment.TransactionId = "h-4";
        await support.AdjustPointsAsync(adjustment);
        return (server, memberId);
    }

    private static async Task<List<TransactionRecord>> AllPagesAsync(ServerInstance server, ListTransactionsRequest request)
    {
        var rows = new List<TransactionRecord>();
        do
        {
            var page = await server.Members.ListTransactionsAsync(request);
            Assert.True(page.Transactions.Count <= (request.PageSize == 0 ? 20 : request.PageSize));
            rows.AddRange(page.Transactions);
            request.PageToken = page.NextPageToken;
        }
        while (request.PageToken.Length > 0);
        return rows;
    }

    [Fact]
    public async Task The_history_lists_every_row_newest_first_with_what_explains_it()
    {
        var (server, memberId) = await MemberWithHistoryAsync();

        var page = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId });

        Assert.Equal(["h-4", "h-3", "h-2", "h-1"], page.Transactions.Select(t => t.TransactionId));
        Assert.Empty(page.NextPageToken);
        var adjustment = page.Transactions[0];
        Assert.Equal((TransactionKind.Adjustment, -20L, 300L + 20 - 50 - 20), (adjustment.Kind, adjustment.Points, adjustment.BalanceAfter));
        Assert.Equal((AdjustmentReason.Correction, "Double scan on h-2", "support-test", false),
            (adjustment.Adjustment.Reason, adjustment.Adjustment.Note, adjustment.Adjustment.OperatorId, adjustment.Adjustment.Forced));
        Assert.Equal(["adjustment"], adjustment.RuleIds);
        var redemption = page.Transactions[1];
        Assert.Equal((TransactionKind.Redemption, -50L), (redemption.Kind, redemption.Points));
        Assert.Null(redemption.Adjustment);
        var purchase = page.Transactions[3];
        Assert.Equal((TransactionKind.Purchase, 300L, 300L, 30_000L), (purchase.Kind, purchase.Points, purchase.BalanceAfter, purchase.SpendMinor));
        Assert.Equal(("store-042", Channel.Store), (purchase.StoreId, purchase.Channel));
        Assert.Contains("base-earn", purchase.RuleIds);
        Assert.Equal(server.Get<Server.Programs.ProgramProvider>().Current.Version, purchase.ProgramVersion);
        Assert.Equal(Now.AddHours(-5).ToUnixTimeMilliseconds(), purchase.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds());
        Assert.True(purchase.RecordedAt.ToDateTimeOffset() >= purchase.OccurredAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task Pages_follow_each_other_without_gaps_or_repeats_even_as_rows_are_added()
    {
        var (server, memberId) = await MemberWithHistoryAsync();
        for (var i = 0; i < 5; i++)
        {
            await server.Scoring.ScoreAsync(Requests.Score(memberId, $"p-{i}", Now.AddMinutes(-30 + i)));
        }

        var first = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 4 });
        // Rows committed after the first page was read come before it, never inside the pages that follow.
        await server.Scoring.ScoreAsync(Requests.Score(memberId, "p-new"));
        var rest = await AllPagesAsync(server, new ListTransactionsRequest { MemberId = memberId, PageSize = 4, PageToken = first.NextPageToken });

        Assert.Equal(4, first.Transactions.Count);
        Assert.NotEmpty(first.NextPageToken);
        // The redemption and the adjustment happened last (now); the purchases at the times their tills sent.
        Assert.Equal(["h-4", "h-3", "p-4", "p-3", "p-2", "p-1", "p-0", "h-2", "h-1"], first.Transactions.Concat(rest).Select(t => t.TransactionId));
    }

    [Fact]
    public async Task Kinds_and_a_time_range_filter_the_rows()
    {
        var (server, memberId) = await MemberWithHistoryAsync();

        var purchases = await AllPagesAsync(server, new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Purchase }, PageSize = 1 });
        var spent = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Redemption, TransactionKind.Adjustment } });
        var window = await server.Members.ListTransactionsAsync(new ListTransactionsRequest
        {
            MemberId = memberId, From = Timestamp.FromDateTimeOffset(Now.AddHours(-5)), To = Timestamp.FromDateTimeOffset(Now.AddHours(-4)),
        });

        Assert.Equal(["h-2", "h-1"], purchases.Select(t => t.TransactionId));
        Assert.Equal(["h-4", "h-3"], spent.Transactions.Select(t => t.TransactionId));
        Assert.Equal(["h-1"], window.Transactions.Select(t => t.TransactionId));
    }

    [Fact]
    public async Task A_token_is_refused_with_another_filter_or_when_it_was_not_issued()
    {
        var (server, memberId) = await MemberWithHistoryAsync();
        var first = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 1 });

        await RpcAssert.RejectsField("page_token", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest
        {
            MemberId = memberId, PageSize = 1, PageToken = first.NextPageToken, Kinds = { TransactionKind.Purchase },
        }).ResponseAsync);
        var other = await IdempotencyTests.EnrolledMemberAsync(server);
        await RpcAssert.RejectsField("page_token", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest
        {
            MemberId = other, PageToken = first.NextPageToken,
        }).ResponseAsync);
        await RpcAssert.RejectsField("page_token", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageToken = "not-a-token" }).ResponseAsync);
        await RpcAssert.RejectsField("page_token", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageToken = "MXxhYmN8eHl6fA" }).ResponseAsync);
        // A token may be used with another page size.
        var next = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 10, PageToken = first.NextPageToken });
        Assert.Equal(["h-3", "h-2", "h-1"], next.Transactions.Select(t => t.TransactionId));
    }

    [Fact]
    public async Task Bad_requests_name_the_field_and_unknown_members_are_not_found()
    {
        var server = await ServerInstance.Shared;
        var memberId = await IdempotencyTests.EnrolledMemberAsync(server);

        await RpcAssert.RejectsField("page_size", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = 101 }).ResponseAsync);
        await RpcAssert.RejectsField("page_size", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, PageSize = -1 }).ResponseAsync);
        await RpcAssert.RejectsField("kinds[1]", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId, Kinds = { TransactionKind.Purchase, TransactionKind.Unspecified } }).ResponseAsync);
        await RpcAssert.RejectsField("to", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest
        {
            MemberId = memberId, From = Timestamp.FromDateTimeOffset(Now), To = Timestamp.FromDateTimeOffset(Now),
        }).ResponseAsync);
        await RpcAssert.RejectsField("member_id", () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = "bad id" }).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.NotFound, () => server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = Ids.Member() }).ResponseAsync);

        var empty = await server.Members.ListTransactionsAsync(new ListTransactionsRequest { MemberId = memberId });
        Assert.Empty(empty.Transactions);
        Assert.Empty(empty.NextPageToken);
    }

    [Fact]
    public async Task Support_and_admin_read_a_members_history_and_a_referral_row_names_the_referred_member()
    {
        await using var server = await ServerInstance.StartAsync(ownLedger: true);
        await Programs.PublishAsync(server, Programs.Document(Programs.Version(), """
            "referral": { "referrerPoints": 500, "refereePoints": 200, "minimumSpend": 2000 }
            """));
        var referrer = await IdempotencyTests.EnrolledMemberAsync(server);
        var referred = Ids.Member();
        await server.Members.EnrollAsync(new EnrollRequest { MemberId = referred, ReferrerMemberId = referrer });
        await server.Scoring.ScoreAsync(Requests.Score(referred, lines: Requests.Line("tv", 1, 30_000)));
        var asSupport = new MemberService.MemberServiceClient(server.CreateChannel(ServerInstance.SupportKey));
        var asAdmin = new MemberService.MemberServiceClient(server.CreateChannel(ServerInstance.AdminKey));

        var bySupport = await asSupport.ListTransactionsAsync(new ListTransactionsRequest { MemberId = referrer, Kinds = { TransactionKind.Referral } });
        var byAdmin = await asAdmin.GetMemberAsync(new GetMemberRequest { MemberId = referrer });
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => asSupport.EnrollAsync(new EnrollRequest { MemberId = Ids.Member() }).ResponseAsync);

        var reward = Assert.Single(bySupport.Transactions);
        Assert.Equal((referred, "referral:" + referred, 500L), (reward.RefersTo, reward.TransactionId, reward.Points));
        Assert.Equal(byAdmin.Balance, reward.BalanceAfter);
    }
}
