namespace GpuFleet.Executors.Slurm;

/// <summary>What Slurm's accounting (<c>sacct</c>) knows about jobs the controller forgot.</summary>
/// <param name="Available">False when the cluster keeps no accounting (no slurmdbd): nothing more will ever be known.</param>
/// <param name="Detail">Why it is not available, in Slurm's words.</param>
/// <param name="Jobs">The records found.</param>
internal sealed record SlurmAccounting(bool Available, string? Detail, IReadOnlyList<SlurmJob> Jobs);
