namespace GpuFleet.Executors;

/// <summary>What an executor starts: one placed job, on named nodes and GPUs.</summary>
/// <param name="JobId">GpuFleet's id of the job; it travels with the run (name, comment or label) so the run can be found again.</param>
/// <param name="Name">The job's name.</param>
/// <param name="Tenant">The tenant it runs for (Slurm's account, a Kubernetes label).</param>
/// <param name="Command">What to run; null runs a placeholder that ends after <paramref name="RuntimeSeconds"/> (or at the limit).</param>
/// <param name="TimeLimitSeconds">The cluster stops the run after this long.</param>
/// <param name="Nodes">Each node by name with the GPU indices the job gets there.</param>
/// <param name="RuntimeSeconds">For a job without a command: how long its placeholder runs.</param>
public sealed record ExecutorLaunch(long JobId, string Name, string Tenant, string? Command, long TimeLimitSeconds, IReadOnlyList<NodeGpus> Nodes, long? RuntimeSeconds = null)
{
    /// <summary>GPUs over all nodes.</summary>
    public int Gpus => Nodes.Sum(n => n.Gpus.Count);

    /// <summary>CPU cores for each GPU (or each slice), on that GPU's node; 0: not asked.</summary>
    public double CpusPerGpu { get; init; }

    /// <summary>Memory in GB for each GPU (or each slice), on that GPU's node; 0: not asked.</summary>
    public double MemoryGbPerGpu { get; init; }

    /// <summary>For a job of GPU slices, each slice; <see cref="Nodes"/> then names the GPUs they are on. Null: whole GPUs.</summary>
    public IReadOnlyList<GpuSlice>? Slices { get; init; }

    /// <summary>What the job holds on <paramref name="node"/> that its CPU cores and memory are counted per: its slices there, or its GPUs.</summary>
    public int UnitsOn(string node) => Slices is { } slices
        ? slices.Count(s => s.Node == node)
        : Nodes.Where(n => n.Node == node).Sum(n => n.Gpus.Count);

    /// <summary>The slices on <paramref name="node"/>, by GPU; empty for a job of whole GPUs.</summary>
    public IReadOnlyList<GpuSlice> SlicesOn(string node) => Slices is { } slices ? [.. slices.Where(s => s.Node == node).OrderBy(s => s.Gpu).ThenBy(s => s.MigStart)] : [];

    /// <summary>The name a run of GpuFleet job <paramref name="jobId"/> carries on a cluster for the unnamed installation (<see cref="RunNames.Default"/>).</summary>
    public static string RunName(long jobId) => RunNames.Default.Of(jobId);

    /// <summary>The GpuFleet job id in a run's name of the unnamed installation; null when the run is not its.</summary>
    public static long? JobIdOf(string runName) => RunNames.Default.JobIdOf(runName);
}
