namespace GpuFleet.Simulation.Engine;

/// <summary>Settings of a simulated run.</summary>
public sealed record SimulationOptions
{
    /// <summary>Length of one time-series sample.</summary>
    public long SampleIntervalSeconds { get; init; } = 3_600;

    /// <summary>Called now and then with the share of jobs submitted so far (0–1). Not part of the result.</summary>
    public Action<double>? Progress { get; init; }

    /// <summary>Name of the trace, for the report.</summary>
    public string TraceName { get; init; } = "trace";
}
