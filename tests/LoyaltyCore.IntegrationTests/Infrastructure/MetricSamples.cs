using System.Globalization;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>One scrape of the metrics endpoint: every sample by its series (name and labels, as exposed).</summary>
internal sealed class MetricSamples
{
    private readonly Dictionary<string, double> _samples;

    private MetricSamples(Dictionary<string, double> samples) => _samples = samples;

    public static async Task<MetricSamples> ScrapeAsync(ServerInstance server)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (await server.ScrapeMetricsAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var split = line.LastIndexOf(' ');
            samples[line[..split]] = double.Parse(line[(split + 1)..], CultureInfo.InvariantCulture);
        }

        return new MetricSamples(samples);
    }

    /// <summary>The sample's value; 0 for a series not exposed yet (a labelled counter before its first increment).</summary>
    public double this[string series] => _samples.GetValueOrDefault(series);

    /// <summary>How much the series moved since <paramref name="before"/>.</summary>
    public double Since(MetricSamples before, string series) => this[series] - before[series];
}
