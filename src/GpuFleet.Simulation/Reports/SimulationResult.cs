namespace GpuFleet.Simulation.Reports;

/// <summary>A run's report and its time series.</summary>
public sealed record SimulationResult(SimulationReport Report, IReadOnlyList<TimeSeriesSample> Series, IReadOnlyList<string> SiteNames)
{
    /// <summary>Waits of the jobs that ran, in seconds, in start order (for charts).</summary>
    public required long[] Waits { get; init; }
}
