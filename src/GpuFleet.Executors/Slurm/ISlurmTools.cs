namespace GpuFleet.Executors.Slurm;

/// <summary>
/// Runs one Slurm command-line tool. The seam between the executor and the processes it starts: tests
/// answer with output recorded from a real Slurm, production runs the tools.
/// </summary>
internal interface ISlurmTools
{
    /// <summary>Runs <paramref name="tool"/> (<c>sbatch</c>, <c>squeue</c>...) with <paramref name="arguments"/> and returns what it printed.</summary>
    /// <exception cref="ExecutorUnreachableException">The tool could not be started or did not finish in time.</exception>
    Task<SlurmToolResult> RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancel);
}
