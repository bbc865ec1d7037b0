namespace GpuFleet.Server.Execution;

/// <summary>How long a job runs on the live service's simulated executor.</summary>
public static class SimulatedRuntime
{
    /// <summary>
    /// The run time the submission declared, or else a share of its time limit (20–100%) drawn from its
    /// id, so that the same job always takes as long — on every replica, and after a requeue.
    /// </summary>
    public static long Of(long jobId, long timeLimitSeconds, long? declaredSeconds) =>
        declaredSeconds ?? Math.Max(1, (long)(timeLimitSeconds * (0.2 + 0.8 * new Random(unchecked((int)jobId)).NextDouble())));
}
