namespace GpuFleet.Server.Storage;

/// <summary>Why a job is in the scheduler's inbox.</summary>
public enum InboxKind
{
    /// <summary>Stored as a new pending job.</summary>
    Submitted,
    /// <summary>Cancelled by a request.</summary>
    Cancelled,
}
