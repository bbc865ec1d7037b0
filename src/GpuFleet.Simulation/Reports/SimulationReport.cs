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
    /// <summary>Jobs their users cancelled (the trace's cancel times), waiting or running; left out of the JSON when none were.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int CancelledJobs { get; init; }
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
    /// <summary>Per owner (top of the tenant tree), by name.</summary>
    public required IReadOnlyList<OwnerReport> PerOwner { get; init; }
    /// <summary>Jobs refused because they exceed their tenant's whole guarantee under a policy that never lends (counted apart from <see cref="RejectedJobs"/>).</summary>
    public required int NeverFitJobs { get; init; }
    /// <summary>Evictions (whole gangs) by reclaim or priority.</summary>
    public required int Preemptions { get; init; }
    /// <summary>Evictions that gave lent GPUs back to a tenant within its guarantee.</summary>
    public required int Reclaims { get; init; }
    /// <summary>GPU-hours of work lost to evictions (since each victim's last checkpoint).</summary>
    public required double LostGpuHours { get; init; }
    /// <summary>Median time from a tenant first waiting within its guarantee to the reclaimed GPUs being free (grace included).</summary>
    public required double ReclaimP50Seconds { get; init; }
    /// <summary>99th percentile of the same.</summary>
    public required double ReclaimP99Seconds { get; init; }
    /// <summary>GPU-hours tenants ran beyond their guarantees.</summary>
    public required double BorrowedGpuHours { get; init; }
    /// <summary>GPU-hours of idle guarantees that others used.</summary>
    public required double LentGpuHours { get; init; }
    /// <summary>Size from which a job counts as a large gang.</summary>
    public required int LargeGangGpus { get; init; }
    /// <summary>Large gangs that ran.</summary>
    public required int LargeGangJobs { get; init; }
    /// <summary>Worst wait of a large gang.</summary>
    public required double LargeGangMaxWaitSeconds { get; init; }
    /// <summary>Site → peak facility power, MW.</summary>
    public required IReadOnlyDictionary<string, double> SitePeakPowerMw { get; init; }
    /// <summary>Site → power cap, MW.</summary>
    public required IReadOnlyDictionary<string, double> SitePowerCapMw { get; init; }
    /// <summary>State changes after which a site drew more than its cap (the scheduler never allows one: this stays 0).</summary>
    public required int PowerCapViolations { get; init; }
    /// <summary>
    /// Node outages begun (a site's outage counts each of its nodes; a failure of a node already down extends
    /// its outage and is not counted again). This and the three figures after it are given only for a run
    /// given failures, and left out of the JSON otherwise.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? NodeFailures { get; init; }
    /// <summary>Runs lost to node failures, each queued again (a job interrupted twice counts twice).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? JobsInterruptedByFailures { get; init; }
    /// <summary>GPU-hours of work those runs threw away: what each ran since its last checkpoint (all it ran without one) × its GPUs.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? FailureLostGpuHours { get; init; }
    /// <summary>GPU-hours of failed nodes' GPUs out of service, within the makespan.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? OutOfServiceGpuHours { get; init; }

    /// <summary>Jobs of GPU slices that started (this and the figures after it are left out of the JSON for a run without any).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? SliceJobs { get; init; }
    /// <summary>GPU-hours held by jobs of slices, in GPU-equivalents (a slice counts its share of compute), over their last placement.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? SliceGpuHours { get; init; }
    /// <summary>What the same jobs would have held with each slice rounded up to a whole GPU.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? SliceRoundedUpGpuHours { get; init; }
    /// <summary>Mean over samples of free GPUs that no pending job could take for lack of CPU or memory on their nodes.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? MeanStrandedGpus { get; init; }
    /// <summary>The most stranded GPUs at any sample.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public int? MaxStrandedGpus { get; init; }
    /// <summary>Mean over samples of the share of free GPU capacity that the request mix could not use.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? MeanFragmentation { get; init; }

    /// <summary>Per inference service, in the order given; left out of the JSON for a run without services.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<ServiceReport>? Services { get; init; }
}
