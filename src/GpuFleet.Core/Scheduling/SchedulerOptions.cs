namespace GpuFleet.Core.Scheduling;

/// <summary>Settings of a <see cref="FleetScheduler"/>.</summary>
public sealed record SchedulerOptions
{
    /// <summary>The policy.</summary>
    public SchedulingPolicy Policy { get; init; } = SchedulingPolicy.EasyBackfill;

    /// <summary>
    /// Placement attempts allowed after the reservation is made, per cycle (Slurm's
    /// <c>bf_max_job_test</c>). Jobs skipped because their class already failed cost nothing and are
    /// not counted.
    /// </summary>
    public int BackfillWindow { get; init; } = 1_000;

    /// <summary>Half-life of past use in fair share: use this long ago counts half (Slurm's default is 7 days).</summary>
    public long FairShareHalfLifeSeconds { get; init; } = 7 * 86_400;

    /// <summary>Relative shares of tenants for fair share; a tenant not listed has share 1.</summary>
    public IReadOnlyDictionary<string, double> TenantShares { get; init; } = new Dictionary<string, double>();
}
