using GpuFleet.Core.Decisions;
using GpuFleet.Core.Tenancy;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>The scheduler's record of one job it holds, pending or running.</summary>
internal sealed class JobRecord(JobSpec spec, int tenant, JobClass jobClass, PriorityClass priorityClass)
{
    public JobSpec Spec { get; } = spec;
    /// <summary>The tenant tree leaf it is charged to.</summary>
    public int Tenant { get; } = tenant;
    public JobClass Class { get; } = jobClass;
    public PriorityClass PriorityClass { get; } = priorityClass;
    /// <summary>Class priority plus the job's own: higher goes first within a tenant and may preempt lower.</summary>
    public int Priority { get; } = priorityClass.Priority + spec.Priority;
    public PendingKey Key { get; } = new(-(priorityClass.Priority + spec.Priority), spec.SubmitTime, spec.Id);
    /// <summary>The spec's time limit, kept here so that a walk over 100,000 pending jobs reads one object per job, not two.</summary>
    public long Limit { get; } = spec.TimeLimitSeconds;
    public bool Running { get; set; }
    /// <summary>Model index it runs on (while running).</summary>
    public int Model { get; set; }
    public long StartTime { get; set; }
    /// <summary>Runs at best-effort (its class, or its grants ran out): any guaranteed demand may reclaim it.</summary>
    public bool BestEffortRun { get; set; }
    /// <summary>When it first waited while within its tenant's guarantee: the start of a reclaim request.</summary>
    public long? FirstBlockedAt { get; set; }
    public GpuAllocation[]? Gpus { get; set; }
    /// <summary>Compute units it holds while running (whole GPUs × 840, or its slices' instances and shares): what its tenant is charged.</summary>
    public long Units { get; set; }
    public long ExpectedEnd { get; set; }
    public long ReasonEpoch { get; set; } = -1;
    public PendingReason Reason { get; set; }
    public long? BlockingJob { get; set; }
    public long? EstimatedStart { get; set; }

    /// <summary>Records why it waits, as found in cycle <paramref name="epoch"/>.</summary>
    public void SetReason(long epoch, PendingReason reason, long? blocking, long? estimate)
    {
        ReasonEpoch = epoch;
        Reason = reason;
        BlockingJob = blocking;
        EstimatedStart = estimate;
    }
}
