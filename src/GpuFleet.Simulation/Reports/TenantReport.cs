namespace GpuFleet.Simulation.Reports;

/// <summary>One tenant's figures in a run.</summary>
/// <param name="Tenant">Tenant (a leaf of the tenant tree, or a name from the trace).</param>
/// <param name="Jobs">Its jobs that ran.</param>
/// <param name="GpuHours">GPU-hours its jobs held.</param>
/// <param name="MeanWaitSeconds">Mean wait from submission to first start.</param>
/// <param name="P99WaitSeconds">99th percentile wait.</param>
/// <param name="MeanJctSeconds">Mean completion time.</param>
public sealed record TenantReport(string Tenant, int Jobs, double GpuHours, double MeanWaitSeconds, double P99WaitSeconds, double MeanJctSeconds)
{
    /// <summary>Its owner (top of the tenant tree), or the tenant itself without a tree.</summary>
    public string Owner { get; init; } = "";
    /// <summary>GPUs guaranteed to it, over all models.</summary>
    public int GuaranteeGpus { get; init; }
    /// <summary>GPU-hours used over GPU-hours guaranteed in the run (above 1: it borrowed more than it lent).</summary>
    public double UtilizationOfGuarantee { get; init; }
    /// <summary>Jobs refused because they exceed its whole guarantee under a policy that never lends.</summary>
    public int NeverFitJobs { get; init; }
    /// <summary>GPU-hours it ran beyond its guarantee.</summary>
    public double BorrowedGpuHours { get; init; }
    /// <summary>GPU-hours of its idle guarantee that others used.</summary>
    public double LentGpuHours { get; init; }
    /// <summary>Share of the time it had demand that it also held its guarantee (or all it asked for); null without a guarantee.</summary>
    public double? GuaranteeHeld { get; init; }
    /// <summary>Evictions of its jobs.</summary>
    public int Preempted { get; init; }
    /// <summary>GPU-hours of its work lost to evictions.</summary>
    public double LostGpuHours { get; init; }
    /// <summary>Facility energy charged to its jobs (GPU busy power × PUE while they held GPUs).</summary>
    public double EnergyKwh { get; init; }
    /// <summary>What that energy cost at its sites' prices (the fleet file's currency).</summary>
    public double EnergyCost { get; init; }
    /// <summary>GPU-hours charged to its grants (billing currency).</summary>
    public double GrantUsedGpuHours { get; init; }
    /// <summary>GPU-hours its jobs ran after its grants were used up (admitted before, run to their end).</summary>
    public double GrantOverrunGpuHours { get; init; }
}
