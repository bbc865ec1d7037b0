namespace GpuFleet.Core.Scheduling;

/// <summary>All pending jobs in one line: higher priority first, then earlier submission.</summary>
internal sealed class SubmitOrderWalk(PendingQueues pending) : IPendingWalk
{
    public void Walk(SchedulingCycle cycle, Func<JobRecord, bool> consider)
    {
        foreach (var job in pending.All)
        {
            consider(job);
            if (cycle.Stopped) break;
        }
    }
}
