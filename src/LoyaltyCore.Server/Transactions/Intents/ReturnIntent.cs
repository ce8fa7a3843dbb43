using System.Globalization;
using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Programs;
using LoyaltyCore.Engine.Scoring;
using LoyaltyCore.Engine.Tiers;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.HotState;
using LoyaltyCore.Server.Ledger.Contracts;
using LoyaltyCore.Server.Observability;

namespace LoyaltyCore.Server.Transactions.Intents;

/// <summary>
/// Takes back what returned goods earned, from what the purchase recorded when it was scored (never by evaluating
/// today's program again): each award on lines gives back the returned quantities' share of what their lines earned,
/// and each award on the basket is taken back once what remains no longer has the spend it needed. What has been
/// returned of the purchase lives in the member's state (<c>k.rt:purchase:line</c>, <c>k.rb:purchase:award</c>), so
/// concurrent returns of the same lines are serialized by the member's version and a line is never returned twice.
/// </summary>
internal sealed class ReturnIntent(ReturnRequest request, ScoreResponse purchase, DateTimeOffset purchasedAt, LoyaltyProgram program, LoyaltyMetrics metrics)
    : TransactionIntent<ReturnResponse>(request.TransactionId, request.MemberId, request.OccurredAt.ToDateTimeOffset().ToUnixTimeMilliseconds(), program, EntryKind.Return, request)
{
    private Grpc.Core.RpcException? _refusal;

    public override MessageParser<ReturnResponse> Parser => ReturnResponse.Parser;

    // The points a return takes back come first from the lots of its purchase's day.
    protected override int PreferredLotDay =>
        LoyaltyCore.Engine.Points.ExpiryPolicy.DayKey(DateOnly.FromDateTime(Program.Calendar.LocalTime(purchasedAt)));

    /// <summary>How many of a purchase's line the member has returned.</summary>
    public static string ReturnedKey(string purchaseId, int line) => string.Create(CultureInfo.InvariantCulture, $"k.rt:{purchaseId}:{line}");

    /// <summary>Set once a return took back a purchase's award on the basket (by its index in the breakdown).</summary>
    public static string TakenKey(string purchaseId, int award) => string.Create(CultureInfo.InvariantCulture, $"k.rb:{purchaseId}:{award}");

    protected override PreparedTransaction<ReturnResponse> PrepareChange(MemberSnapshot snapshot, long recordedAtMs, IReadOnlyDictionary<string, long>? budgetLimits)
    {
        var state = snapshot.State;
        var purchaseId = request.PurchaseTransactionId;
        var lines = purchase.Lines;
        var response = new ReturnResponse { TransactionId = TransactionId, PurchaseTransactionId = purchaseId, ProgramVersion = Program.Version };
        _refusal = null;

        // What each line had returned before, and what this return takes of it.
        var before = new long[lines.Count];
        var wanted = new long[lines.Count];
        for (var i = 0; i < lines.Count; i++)
        {
            before[i] = state.Counter(ReturnedKey(purchaseId, i));
            wanted[i] = request.Lines.Count == 0 ? lines[i].Quantity - before[i] : 0;
        }

        foreach (var line in request.Lines)
        {
            var returnable = lines[line.LineIndex].Quantity - before[line.LineIndex];
            if (line.Quantity > returnable)
            {
                _refusal = RpcErrors.BeyondReturnable(purchaseId, line.LineIndex, returnable, line.Quantity);
                return Refuse(response, recordedAtMs, state.Tier, state.Balance);
            }

            wanted[line.LineIndex] = line.Quantity;
        }

        if (wanted.All(w => w == 0))
        {
            _refusal = RpcErrors.NothingToReturn(purchaseId);
            return Refuse(response, recordedAtMs, state.Tier, state.Balance);
        }

        var increments = new List<KeyValuePair<string, long>>();
        var sets = new List<KeyValuePair<string, string>>();
        long spendBack = 0, eligibleBefore = 0, remainingEligible = 0;
        var everything = true;
        for (var i = 0; i < lines.Count; i++)
        {
            var after = before[i] + wanted[i];
            everything &= after == lines[i].Quantity;
            spendBack += ShareOf(lines[i].TotalMinor, after, lines[i].Quantity) - ShareOf(lines[i].TotalMinor, before[i], lines[i].Quantity);
            if (lines[i].Earns)
            {
                eligibleBefore += lines[i].TotalMinor - ShareOf(lines[i].TotalMinor, before[i], lines[i].Quantity);
                remainingEligible += lines[i].TotalMinor - ShareOf(lines[i].TotalMinor, after, lines[i].Quantity);
            }

            if (wanted[i] > 0)
            {
                sets.Add(new(ReturnedKey(purchaseId, i), after.ToString(CultureInfo.InvariantCulture)));
            }
        }

        // The year's spend, for objective steps; a counter already dropped as past means the year is over.
        var yearKey = CounterKeys.YearSpend(Program.Calendar.LocalTime(purchasedAt).Year);
        var yearCounted = state.Counters.ContainsKey(yearKey);
        var yearAfter = state.Counter(yearKey) - spendBack;
        var campaigns = new Dictionary<string, long>(StringComparer.Ordinal);
        long pointsBack = 0;
        for (var a = 0; a < purchase.Breakdown.Count; a++)
        {
            var award = purchase.Breakdown[a];
            long taken = 0;
            if (state.Counter(TakenKey(purchaseId, a)) != 0)
            {
                // Taken back whole by an earlier return.
                continue;
            }

            if (award.Lines.Count > 0)
            {
                long remainingLines = 0;
                foreach (var share in award.Lines)
                {
                    var line = lines[share.Line];
                    remainingLines += line.TotalMinor - ShareOf(line.TotalMinor, before[share.Line] + wanted[share.Line], line.Quantity);
                }

                // What remains no longer has the spend the award needed: the rest of it goes too, once.
                var lapsed = (award.RequiredSpendMinor > 0 && remainingEligible < award.RequiredSpendMinor)
                    || (award.RequiredLinesSpendMinor > 0 && remainingLines < award.RequiredLinesSpendMinor);
                foreach (var share in award.Lines)
                {
                    var q = lines[share.Line].Quantity;
                    var after = lapsed ? q : before[share.Line] + wanted[share.Line];
                    taken += ShareOf(share.Points, after, q) - ShareOf(share.Points, before[share.Line], q);
                }

                if (lapsed)
                {
                    sets.Add(new(TakenKey(purchaseId, a), "1"));
                }
            }
            else if ((award.RequiredSpendMinor > 0
                    && ((eligibleBefore >= award.RequiredSpendMinor && remainingEligible < award.RequiredSpendMinor) || everything))
                || (award.RequiredYearSpendMinor > 0 && yearCounted && yearAfter < award.RequiredYearSpendMinor))
            {
                taken = award.Points;
                sets.Add(new(TakenKey(purchaseId, a), "1"));
                if (award.RequiredYearSpendMinor > 0 && Program.ObjectiveStepCounter(award.RuleId, purchasedAt) is { } step && state.Counter(step) != 0)
                {
                    // The step can be reached again.
                    sets.Add(new(step, "0"));
                }
            }

            if (taken <= 0)
            {
                continue;
            }

            pointsBack += taken;
            response.Breakdown.Add(new BreakdownEntry { RuleId = award.RuleId, Points = taken, Reason = "returned", CampaignId = award.CampaignId });
            if (award.CampaignId.Length > 0)
            {
                campaigns[award.CampaignId] = campaigns.GetValueOrDefault(award.CampaignId) + taken;
            }
        }

        var taking = Program.ReturnsNegativeBalance == NegativeBalancePolicy.Clamp ? Math.Min(pointsBack, Math.Max(0, state.AvailablePoints)) : pointsBack;
        var balance = state.Balance - taking;
        // What is written off stays earned: caps and budgets get back only what the balance gave back, campaign by
        // campaign in proportion.
        var campaignPoints = campaigns
            .Select(c => new CampaignAward(c.Key, taking == pointsBack ? c.Value : ShareOf(c.Value, taking, pointsBack)))
            .Where(c => c.Points > 0)
            .ToList();
        var counters = Program.ReturnCounterDeltas(state, purchasedAt, spendBack, taking, campaignPoints);
        increments.Add(new(MemberFields.LifetimeSpend, -spendBack));
        increments.AddRange(counters);

        var policy = Program.TierPolicy;
        var tier = state.Tier;
        if (policy.Downgrade == DowngradePolicy.Immediate)
        {
            // Immediate downgrades follow what the return leaves; otherwise the tier waits for its review.
            var local = Program.Calendar.LocalTime(DateTimeOffset.FromUnixTimeMilliseconds(recordedAtMs));
            var after = MemberStateChanges.Apply(snapshot, string.Empty, 0, 0, -taking, increments, sets, []).State;
            var (current, _) = policy.Current(state, local);
            var qualifying = policy.Metric == QualificationMetric.Balance ? balance : policy.QualifyingValue(after, local);
            tier = policy.After(after, local, current, qualifying).Id;
        }

        response.PointsReturned = pointsBack;
        response.PointsWrittenOff = pointsBack - taking;
        response.Balance = balance;
        response.AvailablePoints = state.AvailablePoints - taking;
        response.Tier = tier;
        response.SpendReturnedMinor = spendBack;

        var entry = NewEntry(-taking, recordedAtMs, tier, balance);
        entry.SpendMinor = -spendBack;
        entry.StoreId = request.StoreId;
        entry.Channel = (int)request.Channel;
        entry.RefersTo = purchaseId;
        entry.RuleIds = string.Join(',', response.Breakdown.Select(b => b.RuleId));
        var budgeted = new List<CampaignAward>();
        foreach (var award in campaignPoints)
        {
            if (Program.FindCampaign(award.CampaignId)?.Budget is not null)
            {
                entry.CampaignDraws.Add(new CampaignDraw { CampaignId = award.CampaignId, Points = -award.Points });
                budgeted.Add(award);
            }
        }

        if (tier != state.Tier)
        {
            sets.Add(new(MemberFields.Tier, tier));
        }

        // The spend comes back through the row's own spend (negative), as a purchase's goes in through it.
        entry.Changes = new StateChanges();
        foreach (var (key, delta) in counters)
        {
            entry.Changes.Increments[key] = delta;
        }

        foreach (var (key, value) in sets)
        {
            entry.Changes.Sets[key] = value;
        }

        return Complete(response, entry, -taking, increments, sets, requiredAvailable: 0, budgetReturns: budgeted);
    }

    /// <summary>The share of <paramref name="value"/> that <paramref name="returned"/> of <paramref name="quantity"/> units carry, rounded down.</summary>
    private static long ShareOf(long value, long returned, long quantity) => (long)((Int128)value * returned / quantity);

    public override void MarkReplayed(ReturnResponse response) => response.Replayed = true;

    public override Grpc.Core.RpcException Insufficient(long balance, long held, PreparedTransaction<ReturnResponse>? prepared) =>
        _refusal ?? RpcErrors.NothingToReturn(request.PurchaseTransactionId);

    public override void Observe(PreparedTransaction<ReturnResponse> prepared)
    {
        metrics.Returns.WithLabels(ChannelLabels.Of(request.Channel)).Inc();
        metrics.PointsReturned.WithLabels(ChannelLabels.Of(request.Channel)).Inc(prepared.Response.PointsReturned);
        metrics.PointsWrittenOff.Inc(prepared.Response.PointsWrittenOff);
        metrics.SpendReturnedMinor.WithLabels(ChannelLabels.Of(request.Channel)).Inc(prepared.Response.SpendReturnedMinor);
    }
}
