namespace GpuFleet.Server.Twin;

/// <summary>
/// A twin run's progress at one moment, replaced whole at each change (readers never see half of one):
/// its state, the share done (0–1: policies done plus the share of the current policy's jobs submitted),
/// what it is doing in words, when it started and ended, and the error of a failed run.
/// </summary>
public sealed record TwinRunStatus(TwinRunState State, double Progress, string Stage, DateTimeOffset? StartedAt = null, DateTimeOffset? FinishedAt = null,
    string? Error = null)
{
    /// <summary>Whether the run has ended (succeeded, failed or cancelled).</summary>
    public bool Ended => State is TwinRunState.Succeeded or TwinRunState.Failed or TwinRunState.Cancelled;
}
