namespace GpuFleet.Simulation.Reports;

/// <summary>A run's report and its time series.</summary>
public sealed record SimulationResult(SimulationReport Report, IReadOnlyList<TimeSeriesSample> Series, IReadOnlyList<string> SiteNames)
{
    /// <summary>Waits of the jobs that ran, in seconds, in start order (for charts).</summary>
    public required long[] Waits { get; init; }

    /// <summary>Names of the run's inference services (empty without any).</summary>
    public IReadOnlyList<string> ServiceNames { get; init; } = [];

    /// <summary>Mean running replicas of each service (in <see cref="ServiceNames"/> order) over each sample of <see cref="Series"/>; empty without services.</summary>
    public IReadOnlyList<double[]> ReplicaSeries { get; init; } = [];
}
