namespace GpuFleet.Server.Execution;

/// <summary>
/// Carries out the scheduler's decisions on a cluster: starts a placed job, stops a cancelled or
/// evicted one, and reports which have ended. The scheduling loop calls it from one thread, after the
/// decision is committed (a job is started only once it is stored as running).
/// </summary>
public interface IJobExecutor
{
    /// <summary>Starts a placed job at <paramref name="now"/>, after <paramref name="startDelaySeconds"/> (data transfer, victims' grace).</summary>
    void Start(long id, long timeLimitSeconds, long? runtimeSeconds, long startDelaySeconds, DateTimeOffset now);

    /// <summary>Stops a job (cancelled or evicted); false when it was not running here.</summary>
    bool Stop(long id);

    /// <summary>Jobs whose run ended by <paramref name="now"/>, each reported once.</summary>
    IReadOnlyList<long> Finished(DateTimeOffset now);

    /// <summary>Jobs running here.</summary>
    int Running { get; }
}
