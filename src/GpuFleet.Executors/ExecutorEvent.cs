namespace GpuFleet.Executors;

/// <summary>Something a cluster did to a run of a GpuFleet job.</summary>
/// <param name="JobId">GpuFleet's job id.</param>
/// <param name="Kind">What happened.</param>
/// <param name="At">When, as the cluster reports it (or when it was seen).</param>
/// <param name="ExitCode">For <see cref="ExecutorEventKind.Finished"/> (and failures that have one).</param>
/// <param name="Detail">The cluster's own words, for the job's history.</param>
/// <param name="Nodes">Where it runs, as the cluster reports it (with <see cref="ExecutorEventKind.Started"/>), to compare with the placement.</param>
public sealed record ExecutorEvent(long JobId, ExecutorEventKind Kind, DateTimeOffset At, int? ExitCode = null, string? Detail = null, IReadOnlyList<string>? Nodes = null)
{
    /// <summary>Whether the run is over after this event.</summary>
    public bool Ends => Kind is not ExecutorEventKind.Started;
}
