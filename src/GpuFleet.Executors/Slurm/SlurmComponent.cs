using System.Globalization;

namespace GpuFleet.Executors.Slurm;

/// <summary>Nodes that get the same resources each: one component of a submission.</summary>
/// <param name="Nodes">The nodes.</param>
/// <param name="Gres">What each node gives: whole GPUs, MIG instances by profile, or shards.</param>
/// <param name="Units">GPUs or slices per node, which the job's CPU cores and memory are counted per.</param>
/// <param name="CpusPerUnit">CPU cores per GPU or slice; 0: not asked.</param>
/// <param name="MemoryGbPerUnit">Memory in GB per GPU or slice; 0: not asked.</param>
internal sealed record SlurmComponent(IReadOnlyList<string> Nodes, IReadOnlyList<SlurmGres> Gres, int Units = 0, double CpusPerUnit = 0, double MemoryGbPerUnit = 0)
{
    /// <summary>Whole GPUs per node, as a job of whole GPUs asks (<c>--gres=gpu:N</c>).</summary>
    public SlurmComponent(IReadOnlyList<string> nodes, int gpusPerNode)
        : this(nodes, gpusPerNode > 0 ? [new SlurmGres("gpu", null, gpusPerNode)] : [], gpusPerNode)
    {
    }

    /// <summary>GPUs (whole or MIG instances) per node.</summary>
    public int GpusPerNode => Gres.Where(g => g.IsGpu).Sum(g => g.Count);

    /// <summary>The GRES per node after <paramref name="prefix"/>, comma-separated (<c>gpu:1g.23gb:2,gpu:2g.45gb:1</c>); null when none.</summary>
    public string? GresText(string prefix) => Gres.Count == 0 ? null : string.Join(',', Gres.Select(g => g.Text(prefix)));

    /// <summary>
    /// Whether CPU cores and memory are asked per GPU (<c>--cpus-per-gpu</c>, <c>--mem-per-gpu</c>): every GRES is
    /// a GPU or MIG instance. Shards are not GPUs: a job of time-shared shares asks for them per node instead.
    /// </summary>
    public bool CountsPerGpu => Gres.Count > 0 && Gres.All(g => g.IsGpu);

    /// <summary>Whole CPU cores per GPU (rounded up), where counted per GPU and asked.</summary>
    public int? CpusPerGpu => CountsPerGpu && CpusPerUnit > 0 ? (int)Math.Ceiling(CpusPerUnit) : null;

    /// <summary>Memory in MB per GPU (rounded up), where counted per GPU and asked.</summary>
    public long? MemoryMbPerGpu => CountsPerGpu && MemoryGbPerUnit > 0 ? (long)Math.Ceiling(MemoryGbPerUnit * 1024) : null;

    /// <summary>Whole CPU cores per node (rounded up) for the node's slices, where not counted per GPU and asked.</summary>
    public int? CpusPerNode => !CountsPerGpu && CpusPerUnit > 0 ? (int)Math.Ceiling(CpusPerUnit * Units) : null;

    /// <summary>Memory in MB per node (rounded up) for the node's slices, where not counted per GPU and asked.</summary>
    public long? MemoryMbPerNode => !CountsPerGpu && MemoryGbPerUnit > 0 ? (long)Math.Ceiling(MemoryGbPerUnit * Units * 1024) : null;

    /// <summary>A memory size as sbatch reads it: <c>4096M</c>.</summary>
    public static string Megabytes(long mb) => mb.ToString(CultureInfo.InvariantCulture) + "M";
}
