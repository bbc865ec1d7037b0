namespace GpuFleet.Server.Jobs;

/// <summary>Where a job is in its life. <see cref="JobTransitions"/> says which moves are allowed.</summary>
public enum JobState
{
    /// <summary>Accepted and waiting for GPUs.</summary>
    Pending,
    /// <summary>Placed; the executor runs it.</summary>
    Running,
    /// <summary>Ended normally.</summary>
    Succeeded,
    /// <summary>Could not run (refused by the scheduler, or the executor failed it).</summary>
    Failed,
    /// <summary>Cancelled by a user.</summary>
    Cancelled,
}
