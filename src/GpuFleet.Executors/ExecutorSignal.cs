namespace GpuFleet.Executors;

/// <summary>What a signal to a running job asks of it.</summary>
public enum ExecutorSignal
{
    /// <summary>Save a checkpoint now (SIGUSR1): an eviction follows after the grace time.</summary>
    Checkpoint,
    /// <summary>Stop (SIGTERM).</summary>
    Terminate,
}
