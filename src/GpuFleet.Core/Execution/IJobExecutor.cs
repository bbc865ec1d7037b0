using GpuFleet.Core.Decisions;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Execution;

/// <summary>
/// Carries out the scheduler's decisions on a cluster: launches a placed job, evicts or cancels a
/// running one, and reports the runs that ended. Time is passed in, on the scheduler's clock (seconds),
/// so that the same executor serves the twin on virtual time and the live service on the real clock.
/// The caller uses it from one thread, after the decision is committed.
/// </summary>
public interface IJobExecutor
{
    /// <summary>Starts <paramref name="job"/> as <paramref name="placement"/> says, decided at <paramref name="now"/>.</summary>
    void Launch(JobSpec job, PlacementDecision placement, long now);

    /// <summary>Stops a job the scheduler evicted; it keeps the work up to its last checkpoint. False when it was not running here.</summary>
    bool Evict(long jobId, long now);

    /// <summary>Stops a cancelled job and forgets it. False when it was not running here.</summary>
    bool Cancel(long jobId, long now);

    /// <summary>Runs that ended by <paramref name="now"/>, each reported once, in order of their end and then of job id.</summary>
    IReadOnlyList<RunEnd> Ended(long now);

    /// <summary>
    /// When the executor next needs the clock to stop: a planned end, where it knows one (a simulated
    /// executor does); null when nothing is planned or it cannot know (a real cluster reports ends as they come).
    /// </summary>
    long? NextWake { get; }

    /// <summary>Jobs running here.</summary>
    int Running { get; }
}
