namespace GpuFleet.Server.Storage;

/// <summary>A cluster's report that it started job <paramref name="JobId"/>'s run at <paramref name="At"/> (its own clock, no earlier than the launch).</summary>
/// <param name="JobId">GpuFleet's job id.</param>
/// <param name="At">When the cluster started it.</param>
/// <param name="Detail">For the job's history, e.g. "started on n01,n02 at hpc".</param>
public sealed record ClusterStart(long JobId, DateTimeOffset At, string Detail);
