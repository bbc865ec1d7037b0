namespace GpuFleet.Core.Workloads;

/// <summary>A job of a trace: its spec, and what only the twin knows — how long it really runs, and when its user cancels it.</summary>
/// <param name="Spec">What the scheduler sees.</param>
/// <param name="RuntimeSeconds">How long it really runs (at least 1 s).</param>
public sealed record TraceJob(JobSpec Spec, long RuntimeSeconds)
{
    /// <summary>When its user cancels it (on the trace's clock), if it is still waiting or running then; null: never.</summary>
    public long? CancelAtSeconds { get; init; }
}
