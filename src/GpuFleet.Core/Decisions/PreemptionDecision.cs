namespace GpuFleet.Core.Decisions;

/// <summary>
/// Evict running job <see cref="VictimJobId"/> (the whole gang) so that <see cref="PreemptorJobId"/>
/// can start: who lost what, and who gained it.
/// </summary>
/// <param name="VictimJobId">The evicted job; the scheduler has queued it again.</param>
/// <param name="VictimTenant">Its tenant.</param>
/// <param name="PreemptorJobId">The job its GPUs go to.</param>
/// <param name="PreemptorTenant">That job's tenant.</param>
/// <param name="Gpus">GPUs the victim held.</param>
/// <param name="LostGpuSeconds">Work lost: GPUs × time since its last checkpoint (since its start if it does not checkpoint).</param>
/// <param name="GraceSeconds">Time the victim gets to exit; the preemptor starts after it.</param>
/// <param name="Kind">Reclaim of lent GPUs, or preemption by a higher class.</param>
/// <param name="RequestedAt">When the preemptor first waited for these GPUs.</param>
public sealed record PreemptionDecision(long VictimJobId, string VictimTenant, long PreemptorJobId, string PreemptorTenant, int Gpus,
    double LostGpuSeconds, long GraceSeconds, PreemptionKind Kind, long RequestedAt);
