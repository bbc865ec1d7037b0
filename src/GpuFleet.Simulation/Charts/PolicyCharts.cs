using ScottPlot;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Simulation.Charts;

/// <summary>
/// SVG charts comparing policies of one fleet and trace: utilization, queue length and fleet power
/// over time, and the distribution of waits.
/// </summary>
public static class PolicyCharts
{
    /// <summary>Writes <c>utilization.svg</c>, <c>queue.svg</c>, <c>power.svg</c> and <c>wait-cdf.svg</c> into <paramref name="directory"/>; returns their paths.</summary>
    public static IReadOnlyList<string> Write(string directory, IReadOnlyList<SimulationResult> results, double powerCapMw)
    {
        Directory.CreateDirectory(directory);
        var paths = new List<string>
        {
            Line(directory, "utilization.svg", "GPU utilization", "utilization (0–1)", results, s => s.Utilization),
            Line(directory, "queue.svg", "Jobs waiting", "pending jobs (interval mean)", results, s => s.QueueLength),
            Line(directory, "power.svg", "Fleet facility power", "MW", results, s => s.PowerMw, powerCapMw),
            WaitCdf(directory, results),
        };
        return paths;
    }

    private static string Line(string directory, string file, string title, string yLabel, IReadOnlyList<SimulationResult> results, Func<TimeSeriesSample, double> value, double? cap = null)
    {
        var plot = new Plot();
        foreach (var r in results)
        {
            if (r.Series.Count == 0) continue;
            var t0 = r.Series[0].TimeSeconds;
            var xs = r.Series.Select(s => (s.TimeSeconds - t0) / 86_400.0).ToArray();
            var ys = r.Series.Select(value).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.Report.Policy;
            line.LineWidth = 1.5f;
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
        var path = Path.Combine(directory, file);
        plot.SaveSvg(path, 900, 420);
        return path;
    }

    private static string WaitCdf(string directory, IReadOnlyList<SimulationResult> results)
    {
        var plot = new Plot();
        foreach (var r in results)
        {
            if (r.Waits.Length == 0) continue;
            var sorted = (long[])r.Waits.Clone();
            Array.Sort(sorted);
            // log10(1 + wait in minutes) keeps zero waits on the chart.
            var points = Math.Min(sorted.Length, 400);
            var xs = new double[points];
            var ys = new double[points];
            for (var i = 0; i < points; i++)
            {
                var k = (int)((long)i * (sorted.Length - 1) / Math.Max(1, points - 1));
                xs[i] = Math.Log10(1 + sorted[k] / 60.0);
                ys[i] = (k + 1.0) / sorted.Length;
            }
            var line = plot.Add.ScatterLine(xs, ys);
            line.LegendText = r.Report.Policy;
            line.LineWidth = 1.5f;
        }
        plot.Title("Distribution of waiting time");
        plot.XLabel("log10(1 + wait in minutes)");
        plot.YLabel("share of jobs that waited at most this long");
        plot.ShowLegend(Alignment.LowerRight);
        var path = Path.Combine(directory, "wait-cdf.svg");
        plot.SaveSvg(path, 900, 420);
        return path;
    }
}
