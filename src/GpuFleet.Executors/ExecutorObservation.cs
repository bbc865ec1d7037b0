namespace GpuFleet.Executors;

/// <summary>One batched look at a cluster.</summary>
/// <param name="Events">What happened to GpuFleet's runs since the previous look, oldest first.</param>
/// <param name="Runs">Every run of a GpuFleet job the cluster knows now.</param>
public sealed record ExecutorObservation(IReadOnlyList<ExecutorEvent> Events, IReadOnlyList<ExecutorRun> Runs);
