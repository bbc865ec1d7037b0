namespace GpuFleet.Simulation.Engine;

/// <summary>Settings of a simulated run.</summary>
public sealed record SimulationOptions
{
    /// <summary>Length of one time-series sample.</summary>
    public long SampleIntervalSeconds { get; init; } = 3_600;

    /// <summary>Called now and then with the share of jobs submitted so far (0–1). Not part of the result.</summary>
    public Action<double>? Progress { get; init; }

    /// <summary>
    /// Called after each cycle, with the scheduler (to ask why jobs wait) and the cycle's decisions. Not
    /// part of the result: lets a caller record every decision, e.g. to compare the twin with the live service.
    /// </summary>
    public Action<GpuFleet.Core.Scheduling.FleetScheduler, GpuFleet.Core.Decisions.CycleResult>? OnCycle { get; init; }

    /// <summary>Node failures at given times (a site's outage is one per node of the site). None by default.</summary>
    public IReadOnlyList<NodeFailure> Failures { get; init; } = [];

    /// <summary>Random node failures at a rate, besides <see cref="Failures"/>; null: none.</summary>
    public NodeFailureRate? FailureRate { get; init; }

    /// <summary>Name of the trace, for the report.</summary>
    public string TraceName { get; init; } = "trace";
}
