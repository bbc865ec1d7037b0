namespace GpuFleet.Executors.Slurm;

/// <summary>One node as <c>sinfo</c> reports it.</summary>
/// <param name="Name">Slurm's node name.</param>
/// <param name="Gpus">GPUs configured (its <c>gpu</c> GRES).</param>
/// <param name="Model">The GRES type of its GPUs (<c>gpu:h100:8</c> → <c>h100</c>); null when untyped.</param>
/// <param name="GpusUsed">GPUs allocated to jobs now, any user's.</param>
/// <param name="State">Slurm's full state, lower case with its flags (<c>mixed+drain</c>, <c>idle*</c>).</param>
/// <param name="Cpus">CPUs configured (<c>CPUs</c>); 0 when not said.</param>
/// <param name="MemoryMb">Memory configured for jobs (<c>RealMemory</c>), in Slurm's MB (MiB); 0 when not said.</param>
internal sealed record SlurmNode(string Name, int Gpus, string? Model, int GpusUsed, string State, int Cpus = 0, long MemoryMb = 0)
{
    /// <summary>The node's memory in whole GB of 1024 MB, as GpuFleet counts it.</summary>
    public int MemoryGb => (int)Math.Min(int.MaxValue, MemoryMb / 1024);
}
