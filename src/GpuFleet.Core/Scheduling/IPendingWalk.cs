namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The order in which a cycle visits pending jobs, chosen from the policy's <see cref="QueueOrder"/>.
/// A walk hands each job to <c>consider</c> (true when it was placed) and ends when the cycle stops;
/// what a visit does — grant, quota, placement, eviction, reservation — is the same for every order.
/// </summary>
internal interface IPendingWalk
{
    void Walk(SchedulingCycle cycle, Func<JobRecord, bool> consider);
}
