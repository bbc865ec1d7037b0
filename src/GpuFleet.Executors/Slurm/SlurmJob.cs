namespace GpuFleet.Executors.Slurm;

/// <summary>One Slurm job, or one component of a heterogeneous job, as <c>squeue</c> or <c>sacct</c> reports it.</summary>
/// <param name="Id">Slurm's id of this row.</param>
/// <param name="RunId">The id the whole run is known and cancelled by: the heterogeneous job's leader, else <paramref name="Id"/>.</param>
/// <param name="Component">Offset within a heterogeneous job; 0 for an ordinary job.</param>
/// <param name="Name">The job's name (<c>gpufleet-&lt;id&gt;</c> for GpuFleet's, see <see cref="RunNames"/>).</param>
/// <param name="State">Slurm's state, upper case (<c>RUNNING</c>, <c>TIMEOUT</c>...).</param>
/// <param name="Reason">Why it waits or ended (<c>None</c>, <c>NonZeroExitCode</c>, <c>TimeLimit</c>...).</param>
/// <param name="ExitCode">The batch script's exit code (0–255).</param>
/// <param name="Signal">The signal that ended it; 0 when none.</param>
/// <param name="Start">When it started (or is expected to); null when Slurm does not say.</param>
/// <param name="End">When it ended (or its time limit ends it); null when Slurm does not say.</param>
/// <param name="Nodes">The nodes allocated to it, expanded; empty while pending.</param>
/// <param name="GpusPerNode">GPUs it asked for on each node.</param>
internal sealed record SlurmJob(
    string Id, string RunId, int Component, string Name, string State, string Reason,
    int ExitCode, int Signal, DateTimeOffset? Start, DateTimeOffset? End, IReadOnlyList<string> Nodes, int GpusPerNode);
