namespace GpuFleet.Executors.Slurm;

/// <summary>What every job submitted through slurmrestd carries besides its <see cref="SlurmSubmission"/>.</summary>
/// <param name="Partition">The partition of every component; null: the cluster's default.</param>
/// <param name="WorkingDirectory">The batch script's working directory (sbatch would take its own).</param>
/// <param name="Environment">The batch script's environment (slurmrestd requires one; sbatch would pass its own).</param>
internal sealed record SlurmRestJobContext(string? Partition, string WorkingDirectory, IReadOnlyList<KeyValuePair<string, string>> Environment);
