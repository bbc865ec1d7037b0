namespace GpuFleet.Simulation.Reports;

/// <summary>
/// The figures of one simulated run. Everything here follows from the fleet, trace and policy alone,
/// so the same inputs give a byte-identical report; wall-clock time is reported beside it, not in it.
/// </summary>
public sealed record SimulationReport
{
    /// <summary>Policy name.</summary>
    public required string Policy { get; init; }
    /// <summary>Fleet name.</summary>
    public required string Fleet { get; init; }
    /// <summary>Trace name.</summary>
    public required string Trace { get; init; }
    /// <summary>GPUs in the fleet.</summary>
    public required int FleetGpus { get; init; }
    /// <summary>Jobs that ran.</summary>
    public required int Jobs { get; init; }
    /// <summary>Jobs refused at submission because they can never fit the fleet (never hidden: counted here).</summary>
    public required int RejectedJobs { get; init; }
    /// <summary>Up to five refusal messages.</summary>
    public required IReadOnlyList<string> RejectedExamples { get; init; }
    /// <summary>Jobs stopped at their time limit.</summary>
    public required int TimedOutJobs { get; init; }
    /// <summary>Busy GPU-time over fleet GPU-time, from the first submission to the last completion (0–1).</summary>
    public required double Utilization { get; init; }
    /// <summary>
    /// Busy GPU-time over fleet GPU-time while jobs were still arriving (first to last submission),
    /// the window in which the workload is offered: a few very long jobs finishing alone later
    /// stretch the busy span of <see cref="Utilization"/> but not this one.
    /// </summary>
    public required double UtilizationWhileArriving { get; init; }
    /// <summary>Mean wait from submission to start.</summary>
    public required double MeanWaitSeconds { get; init; }
    /// <summary>Median wait.</summary>
    public required double P50WaitSeconds { get; init; }
    /// <summary>95th percentile wait.</summary>
    public required double P95WaitSeconds { get; init; }
    /// <summary>99th percentile wait.</summary>
    public required double P99WaitSeconds { get; init; }
    /// <summary>Mean job completion time (submission to end).</summary>
    public required double MeanJctSeconds { get; init; }
    /// <summary>99th percentile job completion time.</summary>
    public required double P99JctSeconds { get; init; }
    /// <summary>Mean bounded slowdown: max(1, (wait + run) / max(run, 10 s)).</summary>
    public required double MeanBoundedSlowdown { get; init; }
    /// <summary>First submission to last completion.</summary>
    public required double MakespanSeconds { get; init; }
    /// <summary>GPU-hours left idle while at least one job waited.</summary>
    public required double IdleGpuHoursWhileWaiting { get; init; }
    /// <summary>Time-weighted share of free GPUs that sat in partly used nodes (0: every free GPU in a whole free node).</summary>
    public required double Fragmentation { get; init; }
    /// <summary>Facility energy of the whole fleet.</summary>
    public required double EnergyKwh { get; init; }
    /// <summary>Peak facility power of the whole fleet.</summary>
    public required double PeakPowerMw { get; init; }
    /// <summary>Scheduling cycles run.</summary>
    public required long Cycles { get; init; }
    /// <summary>Per site, in fleet order.</summary>
    public required IReadOnlyList<SiteReport> Sites { get; init; }
    /// <summary>Per tenant, by name.</summary>
    public required IReadOnlyList<TenantReport> PerTenant { get; init; }
}
