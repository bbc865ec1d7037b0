namespace GpuFleet.Server.Execution;

/// <summary>One run GpuFleet launched at a site that its cluster has accepted but not started.</summary>
/// <param name="Job">Its job.</param>
/// <param name="Tenant">The job's tenant (a caller sees the entry only where it sees that tenant's jobs).</param>
/// <param name="Since">When GpuFleet asked for the launch (for a run a new leader adopted: when it first saw it waiting).</param>
/// <param name="Reason">Why it waits, in the cluster's words (Slurm's <c>PENDING (Resources)</c>); null when the cluster does not say.</param>
public sealed record WaitingRun(long Job, string Tenant, DateTimeOffset Since, string? Reason);
