namespace GpuFleet.Executors;

/// <summary>One node by its cluster name, and GPU indices on it.</summary>
public sealed record NodeGpus(string Node, IReadOnlyList<int> Gpus);
