namespace GpuFleet.Core.Workloads;

/// <summary>A job of a trace: its spec, and the run time only the twin knows.</summary>
/// <param name="Spec">What the scheduler sees.</param>
/// <param name="RuntimeSeconds">How long it really runs (at least 1 s).</param>
public sealed record TraceJob(JobSpec Spec, long RuntimeSeconds);
