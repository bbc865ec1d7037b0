namespace GpuFleet.Core.Execution;

/// <summary>A run that ended: which job, when, and how.</summary>
/// <param name="JobId">The job.</param>
/// <param name="At">When it ended, on the scheduler's clock.</param>
/// <param name="Outcome">Whether it finished its work, was stopped at its time limit, failed, or was lost.</param>
/// <param name="ExitCode">The exit code, where the executor reports one.</param>
/// <param name="Detail">The executor's words for the end (for the job's history); null for a plain end.</param>
public readonly record struct RunEnd(long JobId, long At, RunOutcome Outcome, int? ExitCode = null, string? Detail = null);
