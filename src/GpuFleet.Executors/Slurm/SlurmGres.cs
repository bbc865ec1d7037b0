using System.Globalization;

namespace GpuFleet.Executors.Slurm;

/// <summary>
/// One generic resource a job asks for on each node of a component: whole GPUs (<c>gpu:8</c>), MIG instances
/// of one profile, which Slurm's MIG support (<c>AutoDetect=nvml</c>) names as GPU types after the profile
/// (<c>gpu:1g.23gb:2</c>), or shards of time-shared GPUs (<c>shard:25</c>).
/// </summary>
/// <param name="Name"><c>gpu</c> or <c>shard</c>.</param>
/// <param name="Type">The GPU type (a MIG profile); null: any.</param>
/// <param name="Count">How many per node.</param>
internal sealed record SlurmGres(string Name, string? Type, int Count)
{
    /// <summary>Whole GPUs or MIG instances: GRES that <c>--cpus-per-gpu</c> and <c>--mem-per-gpu</c> count per.</summary>
    public bool IsGpu => Name == "gpu";

    /// <summary>As Slurm writes it after <paramref name="prefix"/> (<c>""</c> for sbatch, <c>gres:</c> or <c>gres/</c> for slurmrestd).</summary>
    public string Text(string prefix) => prefix + Name + (Type is null ? "" : ":" + Type) + ":" + Count.ToString(CultureInfo.InvariantCulture);
}
