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

    /// <summary>
    /// Seconds from a placement to the job's start on the cluster (a real executor's submission and the
    /// cluster's own scheduling pass), on average: the GPUs are held from the placement, the work and the
    /// time limit count from the start, and the job's wait ends there. 0 (the default): jobs start as placed.
    /// A fraction is spread over placements in whole seconds (1.25: 1, 1, 1, 2, ...).
    /// </summary>
    public double LaunchLatencySeconds { get; init; }

    /// <summary>
    /// Seconds from a job's end to the moment the scheduler learns of it and its GPUs take new work (a real
    /// executor's polling and the scheduling loop's period), on average; the job's end, its wait and the
    /// makespan are not moved. 0 (the default): GPUs are free at the end. Spread like <see cref="LaunchLatencySeconds"/>.
    /// </summary>
    public double ReleaseLatencySeconds { get; init; }

    /// <summary>
    /// Stops the run between two instants of the clock with <see cref="OperationCanceledException"/> (a twin run
    /// its user cancelled, or a server shutting down). Not part of the result: a run that is not stopped is the same.
    /// </summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// Inference services run beside the trace, each with its rate curve (see <see cref="Simulator"/>); none by
    /// default. Their replicas take job ids from <see cref="GpuFleet.Core.Services.ServiceFleet.FirstReplicaId"/> up.
    /// </summary>
    public IReadOnlyList<GpuFleet.Core.Services.ServiceLoad> Services { get; init; } = [];

    /// <summary>Name of the trace, for the report.</summary>
    public string TraceName { get; init; } = "trace";
}
