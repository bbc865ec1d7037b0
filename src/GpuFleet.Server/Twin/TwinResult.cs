using GpuFleet.Simulation.Charts;
using GpuFleet.Simulation.Reports;

namespace GpuFleet.Server.Twin;

/// <summary>
/// What a finished twin run keeps: the JSON report (the text <c>simulate --json</c> writes), the charts the
/// page shows (SVG), each policy's figures and tenant shares for the page's tables, and the fleet's
/// summed power cap the power chart draws.
/// </summary>
public sealed record TwinResult(string ReportJson, IReadOnlyList<PolicyChart> Charts, IReadOnlyList<SimulationReport> Reports,
    IReadOnlyDictionary<string, double[]> TenantShares, double PowerCapMw)
{
    /// <summary>The chart stored as <paramref name="file"/> (<c>utilization.svg</c>), or null.</summary>
    public PolicyChart? Chart(string file) => Charts.FirstOrDefault(c => c.File == file);
}
