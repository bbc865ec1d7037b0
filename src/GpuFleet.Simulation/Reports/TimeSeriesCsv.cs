using System.Globalization;

namespace GpuFleet.Simulation.Reports;

/// <summary>
/// Writes a run's time series as CSV: <c>timeSeconds,utilization,queueLength,powerMw,powerMw:&lt;site&gt;...</c>, and for a
/// run with inference services <c>replicas:&lt;service&gt;...</c> (mean replicas running over the sample).
/// </summary>
public static class TimeSeriesCsv
{
    /// <summary>Writes the series.</summary>
    public static void Write(TextWriter writer, SimulationResult result)
    {
        writer.Write("timeSeconds,utilization,queueLength,powerMw");
        foreach (var site in result.SiteNames) writer.Write($",powerMw:{site}");
        foreach (var service in result.ServiceNames) writer.Write($",replicas:{service}");
        writer.WriteLine();
        for (var i = 0; i < result.Series.Count; i++)
        {
            var s = result.Series[i];
            writer.Write(string.Create(CultureInfo.InvariantCulture, $"{s.TimeSeconds},{s.Utilization:F4},{s.QueueLength:F2},{s.PowerMw:F4}"));
            foreach (var p in s.SitePowerMw) writer.Write(string.Create(CultureInfo.InvariantCulture, $",{p:F4}"));
            for (var k = 0; k < result.ServiceNames.Count; k++)
                writer.Write(string.Create(CultureInfo.InvariantCulture, $",{(i < result.ReplicaSeries.Count ? result.ReplicaSeries[i][k] : 0):F2}"));
            writer.WriteLine();
        }
    }
}
