namespace GpuFleet.Cli.Commands.SlurmBench;

/// <summary>
/// One finished job as Slurm's <c>jobcomp/filetxt</c> records it (a heterogeneous job's components as one:
/// the earliest start, the latest end, all their nodes, the worst state). Times are whole seconds.
/// </summary>
/// <param name="JobId">Slurm's job id (a heterogeneous job's leader).</param>
/// <param name="Name">The job's name.</param>
/// <param name="State">COMPLETED, FAILED, CANCELLED, TIMEOUT, ...</param>
/// <param name="Submit">When it was submitted.</param>
/// <param name="Start">When it started; null when it never ran.</param>
/// <param name="End">When it ended.</param>
/// <param name="Nodes">The nodes it ran on.</param>
/// <param name="Components">1, or a heterogeneous job's components.</param>
internal sealed record JobCompRecord(string JobId, string Name, string State, DateTimeOffset Submit, DateTimeOffset? Start, DateTimeOffset End,
    IReadOnlyList<string> Nodes, int Components);
