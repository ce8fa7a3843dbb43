using LoyaltyCore.Engine.Kpis;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Ledger.Contracts;

namespace LoyaltyCore.Server.Kpis;

/// <summary>
/// What each ledger kind means for the KPIs: which rows are purchases, where points go (issued, redeemed, expired,
/// returned, other debits), and the keys a row counts under per rule. The one place the KPIs read ledger kinds.
/// </summary>
internal static class PointFlows
{
    public const int PurchaseKind = (int)EntryKind.Earn;

    public static bool IsPurchase(int kind) => kind == PurchaseKind;

    /// <summary>A reward claim counts under its reward; every other row under each of its rule ids.</summary>
    public static string RulesOf(int kind, string ruleIds, string? refersTo) =>
        kind == (int)EntryKind.Reward ? refersTo ?? string.Empty : ruleIds;

    public static bool IsRedemption(int kind) => kind is (int)EntryKind.Redeem or (int)EntryKind.Capture or (int)EntryKind.Reward;

    /// <summary>An offer's rule id (<c>offer:PARTNER:OFFER</c>, as activations and conversions record it) split.</summary>
    public static (string Partner, string Offer)? Offer(string ruleId)
    {
        if (!ruleId.StartsWith("offer:", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = ruleId.AsSpan(6);
        var colon = rest.IndexOf(':');
        return colon <= 0 ? null : (rest[..colon].ToString(), rest[(colon + 1)..].ToString());
    }
}

/// <summary>A period's sums from <c>kpi_daily</c>: points by flow, revenue and orders, in all and per channel.</summary>
internal sealed class PeriodTotals
{
    private readonly SortedDictionary<int, (long Orders, long RevenueMinor)> _channels = [];

    public long Issued { get; private set; }

    public long Redeemed { get; private set; }

    public long Expired { get; private set; }

    public long Returned { get; private set; }

    public long OtherDebits { get; private set; }

    public long RevenueMinor { get; private set; }

    public long Orders { get; private set; }

    public IReadOnlyDictionary<int, (long Orders, long RevenueMinor)> Channels => _channels;

    public static PeriodTotals Of(IEnumerable<KpiDailyRow> rows, int fromDay, int toDay)
    {
        var totals = new PeriodTotals();
        foreach (var row in rows)
        {
            if (row.Day >= fromDay && row.Day <= toDay)
            {
                totals.Add(row);
            }
        }

        return totals;
    }

    /// <summary>The orders and revenue of one channel, 0 for a channel with none.</summary>
    public (long Orders, long RevenueMinor) Channel(int channel) => _channels.GetValueOrDefault(channel);

    public double RedemptionRate => KpiMath.Ratio(Redeemed, Issued);

    private void Add(KpiDailyRow row)
    {
        var kind = (int)row.Kind;
        if (kind == (int)EntryKind.Return)
        {
            Returned += row.Debits - row.Credits;
        }
        else
        {
            Issued += row.Credits;
            if (PointFlows.IsRedemption(kind))
            {
                Redeemed += row.Debits;
            }
            else if (kind == (int)EntryKind.Expiry)
            {
                Expired += row.Debits;
            }
            else
            {
                OtherDebits += row.Debits;
            }
        }

        if (kind is PointFlows.PurchaseKind or (int)EntryKind.Return)
        {
            RevenueMinor += row.SpendMinor;
            var channel = _channels.GetValueOrDefault((int)row.Channel);
            var orders = kind == PointFlows.PurchaseKind ? row.Entries : 0;
            _channels[(int)row.Channel] = (channel.Orders + orders, channel.RevenueMinor + row.SpendMinor);
            Orders += orders;
        }
    }
}
