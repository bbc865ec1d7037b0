namespace GpuFleet.Executors;

/// <summary>A run of a GpuFleet job that a cluster knows now, pending on it or running.</summary>
/// <param name="JobId">GpuFleet's job id, from the run's name or label.</param>
/// <param name="ExternalId">The cluster's own id (a Slurm job id, a Kubernetes Job name, a process id).</param>
/// <param name="Nodes">The nodes it runs on; empty while the cluster has not started it.</param>
public sealed record ExecutorRun(long JobId, string ExternalId, IReadOnlyList<string> Nodes);
