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
    /// <summary>Most runs listed in <see cref="Jobs"/>: a cluster that starts nothing for an hour must not swell every view.</summary>
    public const int MaxListed = 1_000;

    /// <summary>The waiting runs, longest waiting first (at most <see cref="MaxListed"/>; a caller sees those of tenants whose jobs it sees).</summary>
    public IReadOnlyList<WaitingRun> Jobs { get; init; } = [];

    /// <summary>What a caller who may not see <see cref="OldestTenant"/>'s jobs is shown: how many wait, and for how long.</summary>
    public ClusterWait Anonymous() => this with { OldestJob = null, OldestTenant = null, OldestReason = null };

    /// <summary>What <paramref name="caller"/> is shown: the oldest run named only if it sees its tenant, and only the runs of tenants it sees.</summary>
    public ClusterWait SeenBy(Security.Caller caller)
    {
        var seen = OldestTenant is { } tenant && caller.Sees(tenant) ? this : Anonymous();
        return Jobs.All(j => caller.Sees(j.Tenant)) ? seen : seen with { Jobs = [.. Jobs.Where(j => caller.Sees(j.Tenant))] };
    }
}
