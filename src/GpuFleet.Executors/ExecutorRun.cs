namespace GpuFleet.Executors;

/// <summary>A run of a GpuFleet job that a cluster knows now, pending on it or running.</summary>
/// <param name="JobId">GpuFleet's job id, from the run's name or label.</param>
/// <param name="ExternalId">The cluster's own id (a Slurm job id, a Kubernetes Job name, a process id).</param>
/// <param name="Nodes">The nodes it runs on; empty while the cluster has not started it.</param>
/// <param name="Waiting">
/// While the cluster has not started it, why in the cluster's words (Slurm's reason such as <c>Resources</c>
/// or <c>ReqNodeNotAvail</c>; a pod's <c>Unschedulable</c> message or its container's <c>ImagePullBackOff</c>); null
/// once started, or where the cluster does not say.
/// </param>
/// <param name="WaitsOnItself">
/// Whether that wait is of the job's own making rather than its nodes': its account's or QOS's limits, a
/// dependency, a hold, its container image. Its nodes are then not set aside when it times out.
/// </param>
public sealed record ExecutorRun(long JobId, string ExternalId, IReadOnlyList<string> Nodes, string? Waiting = null, bool WaitsOnItself = false);
