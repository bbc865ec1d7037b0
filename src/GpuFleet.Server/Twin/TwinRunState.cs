namespace GpuFleet.Server.Twin;

/// <summary>Where a twin run is: waiting its turn, simulating, or ended one of three ways.</summary>
public enum TwinRunState
{
    /// <summary>Waiting for the worker.</summary>
    Queued,
    /// <summary>Being simulated.</summary>
    Running,
    /// <summary>Done: its report and charts are ready.</summary>
    Succeeded,
    /// <summary>Stopped by an error (its message says which).</summary>
    Failed,
    /// <summary>Cancelled by a user (or by the server stopping) before it ended.</summary>
    Cancelled,
}
