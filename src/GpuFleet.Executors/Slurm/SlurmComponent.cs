namespace GpuFleet.Executors.Slurm;

/// <summary>Nodes that get the same number of GPUs each: one component of a submission.</summary>
internal sealed record SlurmComponent(IReadOnlyList<string> Nodes, int GpusPerNode);
