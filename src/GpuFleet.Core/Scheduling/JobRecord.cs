using GpuFleet.Core.Decisions;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>The scheduler's record of one job it holds, pending or running.</summary>
internal sealed class JobRecord(JobSpec spec, int tenant, JobClass jobClass)
{
    public JobSpec Spec { get; } = spec;
    public int Tenant { get; } = tenant;
    public JobClass Class { get; } = jobClass;
    public PendingKey Key { get; } = new(-spec.Priority, spec.SubmitTime, spec.Id);
    public bool Running { get; set; }
    public GpuAllocation[]? Gpus { get; set; }
    public long ExpectedEnd { get; set; }
    public long ReasonEpoch { get; set; } = -1;
    public PendingReason Reason { get; set; }
    public long? BlockingJob { get; set; }
    public long? EstimatedStart { get; set; }
}
