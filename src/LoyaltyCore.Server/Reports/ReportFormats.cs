using System.Globalization;
using System.Net;
using System.Text;
using Google.Protobuf;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Engine.Kpis;

namespace LoyaltyCore.Server.Reports;

/// <summary>The KPI report written as Markdown, CSV, JSON (the API's own JSON) or a self-contained HTML page.</summary>
internal static class ReportFormats
{
    public static readonly string[] Names = ["md", "csv", "json", "html"];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Write(KpiReport report, string format) => format switch
    {
        "md" => Markdown(report),
        "csv" => Csv(report),
        "json" => new JsonFormatter(JsonFormatter.Settings.Default.WithFormatDefaultValues(true)).Format(report),
        "html" => Html(report),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "md, csv, json or html"),
    };

    /// <summary>The headline figures, each as its label, its value now and a year earlier (empty without a comparison).</summary>
    public static IReadOnlyList<(string Label, string Current, string Previous, string Change)> Figures(KpiReport report)
    {
        var current = report.Current;
        var previous = report.PreviousYear;
        var exponent = report.CurrencyExponent;
        var rows = new List<(string, string, string, string)>();
        void Count(string label, Func<PeriodKpis, long> value) =>
            rows.Add((label, value(current).ToString(Invariant), previous is null ? string.Empty : value(previous).ToString(Invariant), Change(previous is null ? null : KpiMath.Change(value(current), value(previous)))));
        void Money(string label, Func<PeriodKpis, long?> value) =>
            rows.Add((label, MoneyText(value(current), exponent), previous is null ? string.Empty : MoneyText(value(previous), exponent),
                Change(previous is null || value(current) is not { } c || value(previous) is not { } p ? null : KpiMath.Change(c, p))));
        void Rate(string label, Func<PeriodKpis, double?> value, string format) =>
            rows.Add((label, RateText(value(current), format), previous is null ? string.Empty : RateText(value(previous), format), string.Empty));

        Count("Members enrolled", p => p.MembersEnrolled);
        Count("New members", p => p.MembersNew);
        Count("Active members", p => p.MembersActive);
        Count("Orders", p => p.Orders);
        Money($"Revenue ({report.Currency})", p => p.RevenueMinor);
        Money($"Revenue per active member ({report.Currency})", p => p.RevenuePerActiveMemberMinor);
        Rate("Orders per active member", p => p.OrdersPerActiveMember, "0.00");
        Count("Points issued", p => p.PointsIssued);
        Count("Points redeemed", p => p.PointsRedeemed);
        Count("Points expired", p => p.PointsExpired);
        Count("Points returned", p => p.PointsReturned);
        Count("Points debited otherwise", p => p.PointsDebitedOther);
        Rate("Redemption rate", p => p.RedemptionRate, "0.0%");
        Money($"Cost of points issued ({report.Currency})", p => p.HasPointsCostMinor ? p.PointsCostMinor : null);
        Money($"Running cost ({report.Currency})", p => p.RunningCostMinor);
        Money($"Program cost ({report.Currency})", p => p.HasProgramCostMinor ? p.ProgramCostMinor : null);
        Rate("Generosity (cost of points / revenue)", p => p.HasGenerosity ? p.Generosity : null, "0.00%");
        Rate("ROI ((revenue - cost) / cost)", p => p.HasRoi ? p.Roi : null, "0.00");
        return rows;
    }

    private static string Markdown(KpiReport report)
    {
        var md = new StringBuilder();
        md.Append(Invariant, $"# KPI report: {report.Current.From} to {report.Current.To}\n\n");
        md.Append(Invariant, $"Program {report.ProgramId} version {report.ProgramVersion}; amounts in {report.Currency}; generated {report.GeneratedAt.ToDateTimeOffset():u}.\n\n");
        md.Append(report.PreviousYear is null ? "| KPI | Value |\n|---|---:|\n" : $"| KPI | {report.Current.From}..{report.Current.To} | {report.PreviousYear.From}..{report.PreviousYear.To} | Change |\n|---|---:|---:|---:|\n");
        foreach (var (label, current, previous, change) in Figures(report))
        {
            md.Append(report.PreviousYear is null ? $"| {label} | {current} |\n" : $"| {label} | {current} | {previous} | {change} |\n");
        }

        foreach (var (title, header, rows) in Tables(report))
        {
            md.Append(Invariant, $"\n## {title}\n\n| {string.Join(" | ", header)} |\n|{string.Concat(header.Select(_ => "---|"))}\n");
            foreach (var row in rows)
            {
                md.Append(Invariant, $"| {string.Join(" | ", row)} |\n");
            }
        }

        return md.ToString();
    }

    private static string Csv(KpiReport report)
    {
        var csv = new StringBuilder("section,item,measure,current,previous_year\n");
        foreach (var (label, current, previous, _) in Figures(report))
        {
            csv.Append(Invariant, $"kpi,{Field(label)},value,{Field(current)},{Field(previous)}\n");
        }

        foreach (var (title, header, rows) in Tables(report))
        {
            foreach (var row in rows)
            {
                for (var i = 1; i < header.Length; i++)
                {
                    csv.Append(Invariant, $"{Field(title)},{Field(row[0])},{Field(header[i])},{Field(row[i])},\n");
                }
            }
        }

        return csv.ToString();
    }

    /// <summary>The breakdowns under the headline figures: each as a title, column headers and rows.</summary>
    private static IEnumerable<(string Title, string[] Header, IEnumerable<string[]> Rows)> Tables(KpiReport report)
    {
        var exponent = report.CurrencyExponent;
        yield return ("Members by tier", ["Tier", "Members", "Share"],
            report.Tiers.Select(t => new[] { t.Tier, t.Members.ToString(Invariant), t.Share.ToString("0.0%", Invariant) }));
        yield return ("Members by days since last purchase", ["Since", "Members"],
            report.Recency.Select(r => new[] { r.Since, r.Members.ToString(Invariant) }));
        yield return ("Orders by channel", ["Channel", "Orders", $"Revenue ({report.Currency})", "Share"],
            report.Current.Channels.Select(c => new[] { c.Channel, c.Orders.ToString(Invariant), KpiMath.FormatMajor(c.RevenueMinor, exponent), c.Share.ToString("0.0%", Invariant) }));
        yield return ("Rewards claimed", ["Reward", "Claims", "Points"],
            report.Current.Rewards.Select(r => new[] { r.RewardId, r.Claims.ToString(Invariant), r.Points.ToString(Invariant) }));
        yield return ("Partner offers", ["Offer", "Activations", "Conversions", "Points"],
            report.Current.Offers.Select(o => new[] { $"{o.PartnerId}/{o.OfferId}", o.Activations.ToString(Invariant), o.Conversions.ToString(Invariant), o.Points.ToString(Invariant) }));
        yield return ("Objective steps reached", ["Step", "Objective", "Percent", "Reached", "First day", "Last day"],
            report.Current.ObjectiveSteps.Select(s => new[] { s.RuleId, s.ObjectiveId, s.Percent.ToString(Invariant), s.Reached.ToString(Invariant), s.FirstDay, s.LastDay }));
        yield return ("Liability now", ["Measure", "Value"],
        [
            ["Points outstanding", report.PointsOutstanding.ToString(Invariant)],
            [$"Liability ({report.Currency})", report.HasLiabilityMinor ? KpiMath.FormatMajor(report.LiabilityMinor, exponent) : "not configured"],
            ["Rollup lag (s)", report.RollupLagSeconds.ToString(Invariant)],
        ]);
    }

    private static string Html(KpiReport report)
    {
        var html = new StringBuilder();
        var title = $"KPI report {report.Current.From} to {report.Current.To}";
        html.Append(Invariant, $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>{E(title)}</title>
            <style>
            body {"{"} font-family: sans-serif; margin: 2em; color: #222; {"}"}
            table {"{"} border-collapse: collapse; margin: 1em 0; {"}"}
            th, td {"{"} border: 1px solid #ccc; padding: 4px 8px; text-align: right; {"}"}
            th:first-child, td:first-child {"{"} text-align: left; {"}"}
            svg text {"{"} font-size: 12px; {"}"}
            </style></head><body>
            <h1>{E(title)}</h1>
            <p>Program {E(report.ProgramId)} version {E(report.ProgramVersion)}; amounts in {E(report.Currency)}; generated {report.GeneratedAt.ToDateTimeOffset():u}.</p>

            """);
        html.Append("<h2>Tier distribution</h2>\n");
        html.Append(SvgCharts.Bars("tiers", "Members by tier", report.Tiers.Select(t => (t.Tier, (double)t.Members)).ToList(), SvgCharts.TierColour));
        html.Append("<h2>Points flow</h2>\n");
        html.Append(SvgCharts.Bars("points-flow", "Points issued, redeemed, expired and returned",
        [
            ("issued", report.Current.PointsIssued),
            ("redeemed", report.Current.PointsRedeemed),
            ("expired", report.Current.PointsExpired),
            ("returned", report.Current.PointsReturned),
            ("debited otherwise", report.Current.PointsDebitedOther),
        ], SvgCharts.FlowColour));
        if (report.PreviousYear is { } previous)
        {
            html.Append("<h2>Year over year</h2>\n");
            html.Append(SvgCharts.Paired("yoy", $"{report.Current.From}..{report.Current.To} against {previous.From}..{previous.To}",
            [
                ($"revenue ({report.Currency})", KpiMath.Major(report.Current.RevenueMinor, report.CurrencyExponent), KpiMath.Major(previous.RevenueMinor, report.CurrencyExponent)),
                ("orders", report.Current.Orders, previous.Orders),
                ("active members", report.Current.MembersActive, previous.MembersActive),
                ("new members", report.Current.MembersNew, previous.MembersNew),
                ("points issued", report.Current.PointsIssued, previous.PointsIssued),
                ("points redeemed", report.Current.PointsRedeemed, previous.PointsRedeemed),
            ]));
        }

        html.Append("<h2>KPIs</h2>\n<table>\n");
        html.Append(report.PreviousYear is null ? "<tr><th>KPI</th><th>Value</th></tr>\n" : $"<tr><th>KPI</th><th>{E(report.Current.From)}..{E(report.Current.To)}</th><th>{E(report.PreviousYear.From)}..{E(report.PreviousYear.To)}</th><th>Change</th></tr>\n");
        foreach (var (label, current, prev, change) in Figures(report))
        {
            html.Append(report.PreviousYear is null
                ? $"<tr><td>{E(label)}</td><td>{E(current)}</td></tr>\n"
                : $"<tr><td>{E(label)}</td><td>{E(current)}</td><td>{E(prev)}</td><td>{E(change)}</td></tr>\n");
        }

        html.Append("</table>\n");
        foreach (var (tableTitle, header, rows) in Tables(report))
        {
            html.Append(Invariant, $"<h2>{E(tableTitle)}</h2>\n<table>\n<tr>{string.Concat(header.Select(h => $"<th>{E(h)}</th>"))}</tr>\n");
            foreach (var row in rows)
            {
                html.Append(Invariant, $"<tr>{string.Concat(row.Select(c => $"<td>{E(c)}</td>"))}</tr>\n");
            }

            html.Append("</table>\n");
        }

        html.Append("</body></html>\n");
        return html.ToString();
    }

    private static string MoneyText(long? minor, int exponent) => minor is { } m ? KpiMath.FormatMajor(m, exponent) : "not configured";

    private static string RateText(double? value, string format) => value is { } v ? v.ToString(format, Invariant) : "not configured";

    private static string Change(double? change) => change is { } c ? c.ToString("+0.0%;-0.0%;0.0%", Invariant) : string.Empty;

    private static string Field(string value) =>
        value.AsSpan().IndexOfAny(",\"\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
