namespace GpuFleet.Server.Jobs;

/// <summary>
/// The allowed state changes. A finished job (succeeded, failed, cancelled) never changes again, so it
/// can never run twice; a running job goes back to pending only when it is evicted or its executor was
/// lost in a restart.
/// </summary>
public static class JobTransitions
{
    /// <summary>Whether a job may move from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public static bool Allowed(JobState from, JobState to) => (from, to) switch
    {
        (JobState.Pending, JobState.Running or JobState.Cancelled or JobState.Failed) => true,
        (JobState.Running, JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Pending) => true,
        _ => false,
    };

    /// <summary>Whether the state is final.</summary>
    public static bool IsFinal(JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;
}
