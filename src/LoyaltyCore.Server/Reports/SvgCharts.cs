using System.Globalization;
using System.Net;
using System.Text;

namespace LoyaltyCore.Server.Reports;

/// <summary>Bar charts as inline SVG: the HTML report draws its charts with no script and no external asset.</summary>
internal static class SvgCharts
{
    public const string TierColour = "#1f77b4";

    public const string FlowColour = "#2ca02c";

    public const string CurrentColour = "#d62728";

    public const string PreviousColour = "#9467bd";

    private const int Width = 640;
    private const int LabelWidth = 180;
    private const int BarHeight = 22;
    private const int Gap = 8;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Horizontal bars, one per item, scaled to the largest.</summary>
    public static string Bars(string id, string title, IReadOnlyList<(string Label, double Value)> items, string colour)
    {
        var max = items.Count == 0 ? 0 : items.Max(i => Math.Abs(i.Value));
        var height = Math.Max(1, items.Count) * (BarHeight + Gap) + Gap;
        var svg = Open(id, title, height);
        for (var i = 0; i < items.Count; i++)
        {
            var y = Gap + (i * (BarHeight + Gap));
            Bar(svg, items[i].Label, items[i].Value, max, y, BarHeight, colour);
        }

        if (items.Count == 0)
        {
            svg.Append(Invariant, $"<text x=\"{LabelWidth}\" y=\"{BarHeight}\">no data</text>");
        }

        return svg.Append("</svg>\n").ToString();
    }

    /// <summary>Pairs of bars, the period against a year earlier, each pair scaled to its own larger value.</summary>
    public static string Paired(string id, string title, IReadOnlyList<(string Label, double Current, double Previous)> items)
    {
        var pair = (2 * BarHeight) + Gap;
        var height = (items.Count * (pair + Gap)) + Gap + 20;
        var svg = Open(id, title, height);
        for (var i = 0; i < items.Count; i++)
        {
            var (label, current, previous) = items[i];
            var max = Math.Max(Math.Abs(current), Math.Abs(previous));
            var y = Gap + (i * (pair + Gap));
            Bar(svg, label + " (now)", current, max, y, BarHeight, CurrentColour);
            Bar(svg, "(a year earlier)", previous, max, y + BarHeight + 2, BarHeight - 2, PreviousColour);
        }

        svg.Append(Invariant, $"<text x=\"{LabelWidth}\" y=\"{height - 6}\" fill=\"{CurrentColour}\">this period</text>");
        svg.Append(Invariant, $"<text x=\"{LabelWidth + 120}\" y=\"{height - 6}\" fill=\"{PreviousColour}\">a year earlier</text>");
        return svg.Append("</svg>\n").ToString();
    }

    private static StringBuilder Open(string id, string title, int height) =>
        new StringBuilder().Append(Invariant, $"<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\" aria-label=\"{WebUtility.HtmlEncode(title)}\"><title>{WebUtility.HtmlEncode(title)}</title>");

    private static void Bar(StringBuilder svg, string label, double value, double max, int y, int height, string colour)
    {
        var room = Width - LabelWidth - 90;
        var length = max <= 0 ? 0 : Math.Max(1, Math.Round(room * Math.Abs(value) / max));
        svg.Append(Invariant, $"<text x=\"{LabelWidth - 6}\" y=\"{y + (height * 0.7):0}\" text-anchor=\"end\">{WebUtility.HtmlEncode(label)}</text>");
        svg.Append(Invariant, $"<rect class=\"bar\" x=\"{LabelWidth}\" y=\"{y}\" width=\"{length:0}\" height=\"{height}\" fill=\"{colour}\" data-value=\"{value.ToString("0.##", Invariant)}\"/>");
        svg.Append(Invariant, $"<text x=\"{LabelWidth + length + 6:0}\" y=\"{y + (height * 0.7):0}\">{value.ToString("#,0.##", Invariant)}</text>");
    }
}
