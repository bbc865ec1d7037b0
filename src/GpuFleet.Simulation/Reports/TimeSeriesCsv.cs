using System.Globalization;

namespace GpuFleet.Simulation.Reports;

/// <summary>Writes a run's time series as CSV: <c>timeSeconds,utilization,queueLength,powerMw,powerMw:&lt;site&gt;...</c>.</summary>
public static class TimeSeriesCsv
{
    /// <summary>Writes the series.</summary>
    public static void Write(TextWriter writer, SimulationResult result)
    {
        writer.Write("timeSeconds,utilization,queueLength,powerMw");
        foreach (var site in result.SiteNames) writer.Write($",powerMw:{site}");
        writer.WriteLine();
        foreach (var s in result.Series)
        {
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{s.TimeSeconds},{s.Utilization:F4},{s.QueueLength:F2},{s.PowerMw:F4}"));
            foreach (var p in s.SitePowerMw) writer.Write(string.Create(CultureInfo.InvariantCulture, $",{p:F4}"));
            writer.WriteLine();
        }
    }
}
