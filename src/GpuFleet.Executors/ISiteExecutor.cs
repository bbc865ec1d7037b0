namespace GpuFleet.Executors;

/// <summary>
/// Carries the scheduler's decisions out on one site's cluster manager (Slurm, Kubernetes, the local
/// machine's GPUs) and reports back what the cluster did. Every call may do I/O and may fail: an
/// executor that cannot reach its cluster throws <see cref="ExecutorUnreachableException"/> and never
/// kills running work because of it; one whose cluster refuses a job throws
/// <see cref="ExecutorRejectedException"/>.
/// </summary>
/// <remarks>
/// Example, a 16-GPU job placed on two Slurm nodes: <see cref="LaunchAsync"/> submits it with
/// <c>--nodelist=n[01-02] --gres=gpu:8</c> and the job's GpuFleet id in its name; later
/// <see cref="ObserveAsync"/> reports <see cref="ExecutorEventKind.Started"/>, then
/// <see cref="ExecutorEventKind.Finished"/> with exit code 0. If the server crashed after the submit
/// but before it recorded the launch, the next <see cref="LaunchAsync"/> of the same job finds it by
/// its id and submits nothing.
/// </remarks>
public interface ISiteExecutor : IAsyncDisposable
{
    /// <summary>What kind of executor this is, as the fleet file names it: <c>slurm</c>, <c>kubernetes</c>, <c>local</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Starts the job on exactly the nodes and GPUs of <paramref name="launch"/>. Idempotent: when the
    /// cluster already has a run of this job (found by its GpuFleet id), nothing new is started.
    /// </summary>
    Task LaunchAsync(ExecutorLaunch launch, CancellationToken cancel);

    /// <summary>Sends <paramref name="signal"/> to a running job's processes (a checkpoint request before an eviction); nothing when it does not run here.</summary>
    Task SignalAsync(long jobId, ExecutorSignal signal, CancellationToken cancel);

    /// <summary>Stops the job and everything it started; nothing when it does not run here.</summary>
    Task CancelAsync(long jobId, CancellationToken cancel);

    /// <summary>
    /// One batched look at the cluster (never one call per job): what happened to GpuFleet's jobs since
    /// the last look, and every run of a GpuFleet job the cluster knows now (for a new leader to adopt).
    /// </summary>
    Task<ExecutorObservation> ObserveAsync(CancellationToken cancel);

    /// <summary>The site's nodes as the cluster sees them: GPUs, model, state, and GPUs its own users hold.</summary>
    Task<SiteInventory> InventoryAsync(CancellationToken cancel);
}
