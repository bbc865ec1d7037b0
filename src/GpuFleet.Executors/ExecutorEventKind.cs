namespace GpuFleet.Executors;

/// <summary>What a cluster reports about a run.</summary>
public enum ExecutorEventKind
{
    /// <summary>It started running.</summary>
    Started,
    /// <summary>It ended by itself, with an exit code (0: success).</summary>
    Finished,
    /// <summary>The cluster could not run it or it failed outside its own code.</summary>
    Failed,
    /// <summary>The cluster stopped it at its time limit.</summary>
    TimedOut,
    /// <summary>The cluster stopped it for using more memory than it had.</summary>
    OutOfMemory,
    /// <summary>A node it ran on failed: the run is gone, the job may run again.</summary>
    NodeFailure,
    /// <summary>The cluster no longer knows the run and its accounting has no end for it.</summary>
    Lost,
    /// <summary>It was cancelled (by GpuFleet or on the cluster).</summary>
    Cancelled,
}
