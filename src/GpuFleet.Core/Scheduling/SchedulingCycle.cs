using GpuFleet.Core.Decisions;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// What one <see cref="FleetScheduler.RunCycle"/> has decided so far and the limits it has used up. It
/// lives until the next cycle begins, so that <see cref="FleetScheduler.Explain"/> can read why the last
/// cycle stopped.
/// </summary>
internal sealed class SchedulingCycle(long epoch, long now)
{
    /// <summary>Number of the cycle: reasons and fail marks stamped with it are current.</summary>
    public long Epoch { get; } = epoch;
    public long Now { get; } = now;
    public List<PlacementDecision> Placements { get; } = [];
    public List<PreemptionDecision> Preemptions { get; } = [];
    /// <summary>Jobs evicted in this cycle, queued again at its end (not while the queues are walked).</summary>
    public List<JobRecord> Evicted { get; } = [];
    public Reservation? Reservation { get; set; }
    public int Attempts { get; set; }
    public int BackfillAttempts { get; set; }
    public int PreemptionAttempts { get; set; }
    /// <summary>Classes with pending jobs that failed outright (long and short) in this cycle.</summary>
    public int ExhaustedClasses { get; set; }
    /// <summary>Nothing further can start in this cycle: the walk ends.</summary>
    public bool Stopped { get; private set; }
    /// <summary>Why the walk stopped, for jobs it did not reach; null when it did not stop, or when their own classes say why.</summary>
    public PendingReason? StopReason { get; private set; }
    public long? StopBlockingJob { get; private set; }

    /// <summary>Ends the walk; jobs not reached wait for <paramref name="reason"/>.</summary>
    public void Stop(PendingReason reason, long? blocking)
    {
        Stopped = true;
        StopReason = reason;
        StopBlockingJob = blocking;
    }

    /// <summary>Ends the walk because every class with pending jobs failed: each job's class says why it waits.</summary>
    public void StopAllClassesFailed() => Stopped = true;
}
