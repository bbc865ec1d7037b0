using GpuFleet.Core.Tenancy;

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

    /// <summary>Relative shares of tenants not in <see cref="Tenants"/> for fair share; a tenant not listed has share 1.</summary>
    public IReadOnlyDictionary<string, double> TenantShares { get; init; } = new Dictionary<string, double>();

    /// <summary>Tenant tree, priority classes, grants. Required by policies with quotas; others use it for fair-share weights.</summary>
    public TenantTree Tenants { get; init; } = TenantTree.Empty;

    /// <summary>A job of at least this many GPUs is a large gang: it gets the reservation once it has waited <see cref="LargeGangReserveAfterSeconds"/>.</summary>
    public int LargeGangGpus { get; init; } = 256;

    /// <summary>How long a large gang may wait before it goes first in every cycle (and so holds the reservation) until it starts.</summary>
    public long LargeGangReserveAfterSeconds { get; init; } = 3_600;

    /// <summary>Most running gangs evicted per cycle: preemption is rate-limited so jobs do not thrash.</summary>
    public int MaxEvictionsPerCycle { get; init; } = 64;

    /// <summary>
    /// After a search for victims finds none for a class of jobs, the next search for that class waits
    /// this long: the preemption period. Eligible victims change only as jobs start, age past their
    /// minimum runtime or end, so searching at every event would cost much and find nothing new.
    /// </summary>
    public long PreemptionRetrySeconds { get; init; } = 30;

    /// <summary>Most pending jobs per cycle that may look for victims (each look is linear in the candidate victims).</summary>
    public int MaxPreemptionAttemptsPerCycle { get; init; } = 16;

    /// <summary>How slices of GPUs are packed (see <see cref="Scheduling.SlicePacking"/>).</summary>
    public SlicePacking SlicePacking { get; init; } = SlicePacking.FragmentationAware;
}
