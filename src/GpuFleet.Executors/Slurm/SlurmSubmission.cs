namespace GpuFleet.Executors.Slurm;

/// <summary>A batch job to submit, independent of how it reaches Slurm (sbatch or slurmrestd).</summary>
/// <param name="Name">The job's name, <c>gpufleet-&lt;id&gt;</c>.</param>
/// <param name="Comment">Slurm's free-text comment: the tenant.</param>
/// <param name="Account">Slurm account, or null for the user's default.</param>
/// <param name="TimeLimitMinutes">Slurm's time limit, whole minutes.</param>
/// <param name="Components">One per distinct GPU count per node; more than one makes a heterogeneous job.</param>
/// <param name="Output">Where the batch script's output goes.</param>
/// <param name="Script">The batch script's body (without the <c>#!</c> line).</param>
internal sealed record SlurmSubmission(
    string Name, string Comment, string? Account, long TimeLimitMinutes,
    IReadOnlyList<SlurmComponent> Components, string Output, string Script)
{
    /// <summary>Whether it is a heterogeneous job (uneven GPUs per node).</summary>
    public bool IsHeterogeneous => Components.Count > 1;

    /// <summary>
    /// The nice value of a heterogeneous job: the back of Slurm's priority order. Slurm's main scheduler
    /// never starts a heterogeneous job (only its backfill pass does, every <c>bf_interval</c>, 30 s by
    /// default), and while one waits at the front it holds every later job of the partition back
    /// ("Priority"), even jobs whose nodes are free. At the back it holds nothing: GpuFleet gives no other
    /// job its GPUs, so backfill starts it on its next pass. Any user may lower a job's priority.
    /// </summary>
    public const int HeterogeneousNice = 1_000_000;
}
