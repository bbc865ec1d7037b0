using System.Globalization;
using System.Text;

namespace GpuFleet.Server.Dashboard;

/// <summary>
/// A site's busy share over the last hours as a small inline SVG line, with its figures in words for
/// screen readers. Example: points (10:00, 40 of 80 busy) and (10:05, 60 of 80) on a 6-hour window
/// that ends at 10:05 draw from x = 142.6 (of 144), y = 15 to x = 144, y = 7.5 (30 high, 0% at the
/// bottom), labelled "busy 50% to 75% over the last 6 hours, 75% in the last 5 minutes".
/// </summary>
internal static class UseSparkline
{
    private const double Width = 144, Height = 30;

    /// <summary>The line for <paramref name="points"/> (oldest first) of a site with <paramref name="gpus"/> GPUs, ending at <paramref name="now"/>.</summary>
    public static Html Of(IReadOnlyList<Hosting.FleetSnapshot.UsePoint>? points, int gpus, DateTimeOffset now)
    {
        if (points is not { Count: > 0 } || gpus <= 0) return Html.Of($"<span class=\"muted\">collecting</span>");
        var window = Hosting.FleetHistory.Stretch * Hosting.FleetHistory.Stretches;
        var start = now - window;
        var line = new StringBuilder();
        foreach (var p in points)
        {
            var x = Math.Clamp((p.At + Hosting.FleetHistory.Stretch - start) / window, 0, 1) * Width;
            var y = Height - Math.Clamp(p.BusyGpus / gpus, 0, 1) * Height;
            line.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
        }
        double min = points.Min(p => p.BusyGpus), max = points.Max(p => p.BusyGpus), last = points[^1].BusyGpus;
        var words = $"busy {DashboardFormat.Percent(min, gpus)} to {DashboardFormat.Percent(max, gpus)} over the last {points.Count * 5} minutes seen, {DashboardFormat.Percent(last, gpus)} in the last 5 minutes";
        return Html.Of($"""<svg class="spark" viewBox="0 0 {Width} {Height}" width="{Width}" height="{Height}" role="img" aria-label="{words}"><title>{words}</title><polyline points="{line.ToString().TrimEnd()}"/></svg>""");
    }
}
