namespace GpuFleet.Server.Execution;

/// <summary>
/// The runs GpuFleet launched at a site that its cluster accepted but has not started yet: GPUs GpuFleet
/// counts as busy that do nothing. One run waiting a few seconds is normal (a Slurm backfill pass, an image
/// pull); many, or a long wait, means the cluster sees something GpuFleet does not (a reservation, a node it
/// drained, its own users' jobs). Each run is cancelled and queued again at <c>launchTimeoutSeconds</c>.
/// </summary>
/// <param name="Runs">How many wait.</param>
/// <param name="OldestSince">When the longest-waiting run's launch was asked for.</param>
/// <param name="OldestJob">The job whose run has waited longest; null to a caller who may not see its tenant's jobs.</param>
/// <param name="OldestTenant">Its tenant; null likewise.</param>
/// <param name="OldestReason">Why it waits, in the cluster's words (Slurm's <c>PENDING (Resources)</c>); null when the cluster does not say, and to a caller who may not see the job.</param>
public sealed record ClusterWait(int Runs, DateTimeOffset OldestSince, long? OldestJob, string? OldestTenant, string? OldestReason)
{
    /// <summary>What a caller who may not see <see cref="OldestTenant"/>'s jobs is shown: how many wait, and for how long.</summary>
    public ClusterWait Anonymous() => this with { OldestJob = null, OldestTenant = null, OldestReason = null };
}
