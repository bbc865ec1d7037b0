using GpuFleet.Core.Fleets;
using GpuFleet.Core.Scheduling;
using GpuFleet.Core.Tenancy;

namespace GpuFleet.Server.Twin;

/// <summary>
/// A twin run's inputs, checked and resolved: the fleet and tenant tree (by name, and as read), the
/// policies to compare in the order given, and the trace. Equivalent to
/// <c>gpufleet simulate --fleet fleets/FLEET.yaml [--tenants tenants/TENANTS.yaml] --trace … --policy P,Q</c>.
/// </summary>
public sealed record TwinRequest(string FleetName, Fleet Fleet, string? TenantsName, TenantTree Tenants, IReadOnlyList<SchedulingPolicy> Policies, TwinTrace Trace)
{
    /// <summary>
    /// The scheduler's settings every policy runs with (backfill window, half-life, preemption limits...):
    /// the live server's, so that the twin decides as the service it sits in does; policy and tree are each run's.
    /// </summary>
    public SchedulerOptions Scheduling { get; init; } = new();

    /// <summary>Length of one time-series sample (<c>simulate --sample-seconds</c>).</summary>
    public long SampleIntervalSeconds { get; init; } = 3_600;

    /// <summary>Jobs in the trace as checked (an upload's), or null when only the run will know (a sample, a generated workload).</summary>
    public int? Jobs { get; init; }
}
