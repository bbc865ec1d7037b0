namespace GpuFleet.Core.Execution;

/// <summary>A run lost with the node it ran on: the job queues again, with the work up to its last checkpoint kept.</summary>
/// <param name="JobId">The job.</param>
/// <param name="At">When the run was lost, on the scheduler's clock.</param>
/// <param name="LostWorkSeconds">Seconds of work thrown away: what it ran since its last checkpoint (all it ran when it keeps none).</param>
public readonly record struct LostRun(long JobId, long At, long LostWorkSeconds);
