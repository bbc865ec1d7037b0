namespace GpuFleet.Core.Execution;

/// <summary>A run that ended: which job, when, and how.</summary>
/// <param name="JobId">The job.</param>
/// <param name="At">When it ended, on the scheduler's clock.</param>
/// <param name="Outcome">Whether it finished its work or was stopped at its time limit.</param>
public readonly record struct RunEnd(long JobId, long At, RunOutcome Outcome);
