namespace GpuFleet.Core.Execution;

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    /// <summary>It finished its work (with exit code 0 where the executor reports one).</summary>
    Completed,
    /// <summary>It reached its time limit and was stopped.</summary>
    TimedOut,
    /// <summary>It ended in failure: a non-zero exit code, out of memory, or the cluster could not run it.</summary>
    Failed,
    /// <summary>The run is gone without an end of its own (its node failed, the cluster lost it): the job queues again.</summary>
    Lost,
}
