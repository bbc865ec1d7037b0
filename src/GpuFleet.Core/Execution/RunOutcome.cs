namespace GpuFleet.Core.Execution;

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    /// <summary>It finished its work.</summary>
    Completed,
    /// <summary>It reached its time limit and was stopped.</summary>
    TimedOut,
}
