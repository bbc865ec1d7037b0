using ScottPlot;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Charts;

/// <summary>
/// SVG charts comparing policies of one fleet and trace: utilization, queue length and fleet power
/// over time, the distribution of waits, and each tenant's share of the GPU-hours. The same charts for
/// <c>gpufleet simulate --charts</c> (files) and the server's twin runs (in memory).
/// </summary>
public static class PolicyCharts
{
    /// <summary>Size of every chart, in pixels.</summary>
    public const int Width = 900, Height = 420;

    /// <summary>Most tenants the share chart shows (those with the largest share under any policy).</summary>
    public const int MaxTenantsShown = 12;

    /// <summary>
    /// Writes <c>utilization.svg</c>, <c>queue.svg</c>, <c>power.svg</c>, <c>wait-cdf.svg</c> and
    /// <c>tenant-share.svg</c> into <paramref name="directory"/>; returns their paths.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<SimulationResult> results, double powerCapMw)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>();
        foreach (var chart in Render(results, powerCapMw))
        {
            var path = Path.Combine(directory, chart.File);
            File.WriteAllText(path, chart.Svg);
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>The charts of <see cref="Write"/>, in its order, without writing them.</summary>
    public static IReadOnlyList<PolicyChart> Render(IReadOnlyList<SimulationResult> results, double powerCapMw) =>
    [
        Line("utilization.svg", "GPU utilization", "utilization (0–1)", results, s => s.Utilization),
        Line("queue.svg", "Jobs waiting", "pending jobs (interval mean)", results, s => s.QueueLength),
        Line("power.svg", "Fleet facility power", "MW", results, s => s.PowerMw, powerCapMw),
        WaitCdf(results),
        TenantShare(results),
    ];

    private static PolicyChart Line(string file, string title, string yLabel, IReadOnlyList<SimulationResult> results, Func<TimeSeriesSample, double> value, double? cap = null)
    {
        var plot = new Plot();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            if (r.Series.Count == 0) continue;
            var t0 = r.Series[0].TimeSeconds;
            var xs = r.Series.Select(s => (s.TimeSeconds - t0) / 86_400.0).ToArray();
            var ys = r.Series.Select(value).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.Report.Policy;
            line.LineWidth = 1.5f;
            line.Color = ColorOf(plot, i);
        }
        if (cap is { } c)
        {
            var h = plot.Add.HorizontalLine(c);
            h.LegendText = "sum of site power caps";
            h.LinePattern = LinePattern.Dashed;
        }
        plot.Title(title);
        plot.XLabel("days since first submission");
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperRight);
        return new PolicyChart(file, title, plot.GetSvgXml(Width, Height));
    }

    private static PolicyChart WaitCdf(IReadOnlyList<SimulationResult> results)
    {
        const string title = "Distribution of waiting time";
        var plot = new Plot();
        for (var i = 0; i < results.Count; i++)
        {
            var r = results[i];
            if (r.Waits.Length == 0) continue;
            var sorted = (long[])r.Waits.Clone();
            Array.Sort(sorted);
            // log10(1 + wait in minutes) keeps zero waits on the chart.
            var points = Math.Min(sorted.Length, 400);
            var xs = new double[points];
            var ys = new double[points];
            for (var k = 0; k < points; k++)
            {
                var at = (int)((long)k * (sorted.Length - 1) / Math.Max(1, points - 1));
                xs[k] = Math.Log10(1 + sorted[at] / 60.0);
                ys[k] = (at + 1.0) / sorted.Length;
            }
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.Report.Policy;
            line.LineWidth = 1.5f;
            line.Color = ColorOf(plot, i);
        }
        plot.Title(title);
        plot.XLabel("log10(1 + wait in minutes)");
        plot.YLabel("share of jobs that waited at most this long");
        plot.ShowLegend(Alignment.LowerRight);
        return new PolicyChart("wait-cdf.svg", title, plot.GetSvgXml(Width, Height));
    }

    /// <summary>
    /// Each tenant's share of the GPU-hours that ran, one bar per policy: the tenants with the largest
    /// share under any policy, at most <see cref="MaxTenantsShown"/>, largest at the top. Example: a
    /// tenant whose jobs held 300 of a run's 1,200 GPU-hours has a bar of 25%.
    /// </summary>
    private static PolicyChart TenantShare(IReadOnlyList<SimulationResult> results)
    {
        const string title = "Share of GPU-hours per tenant";
        var shares = TenantShares(results);
        var tenants = shares.Keys
            .OrderByDescending(t => shares[t].Max()).ThenBy(t => t, StringComparer.Ordinal)
            .Take(MaxTenantsShown).ToList();
        var plot = new Plot();
        var width = 0.8 / Math.Max(1, results.Count);
        for (var p = 0; p < results.Count; p++)
        {
            var color = ColorOf(plot, p);
            var bars = tenants.Select((t, row) => new Bar
            {
                // The first tenant at the top (rows count down from the largest position), and within a
                // tenant the first policy on top, as the legend lists them.
                Position = tenants.Count - 1 - row + ((results.Count - 1) / 2.0 - p) * width,
                Value = shares[t][p] * 100,
                Size = width,
                FillColor = color,
                LineWidth = 0,
            }).ToList();
            if (bars.Count == 0) continue;
            var plotted = plot.Add.Bars(bars);
            plotted.Horizontal = true;
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = results[p].Report.Policy, FillColor = color });
        }
        if (tenants.Count > 0)
        {
            double[] positions = [.. tenants.Select((_, row) => (double)(tenants.Count - 1 - row))];
            string[] labels = [.. tenants.Select(Label)];
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(positions, labels);
        }
        plot.Axes.Margins(left: 0, right: 0.1, bottom: 0.02, top: 0.02);
        plot.Title(title);
        plot.XLabel(shares.Count > tenants.Count ? $"% of GPU-hours (the {tenants.Count} largest of {shares.Count} tenants)" : "% of GPU-hours");
        plot.ShowLegend(Alignment.LowerRight);
        return new PolicyChart("tenant-share.svg", title, plot.GetSvgXml(Width, Height));
    }

    /// <summary>Tenant → its share (0–1) of each run's GPU-hours, in the order of <paramref name="results"/> (0 where it ran nothing).</summary>
    public static IReadOnlyDictionary<string, double[]> TenantShares(IReadOnlyList<SimulationResult> results)
    {
        var shares = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var p = 0; p < results.Count; p++)
        {
            var total = results[p].Report.PerTenant.Sum(t => t.GpuHours);
            if (total <= 0) continue;
            foreach (var t in results[p].Report.PerTenant)
            {
                if (!shares.TryGetValue(t.Tenant, out var row)) shares[t.Tenant] = row = new double[results.Count];
                row[p] = t.GpuHours / total;
            }
        }
        return shares;
    }

    // The same colour for a policy on every chart: its place in the comparison.
    private static Color ColorOf(Plot plot, int index) => plot.Add.Palette.GetColor(index);

    // Tenant names come from trace files: a long one is cut, so that the chart keeps its room for the bars.
    private static string Label(string tenant) => tenant.Length <= 24 ? tenant : tenant[..23] + "…";
}
