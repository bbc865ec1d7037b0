namespace GpuFleet.Executors.Slurm;

/// <summary>One node as <c>sinfo</c> reports it.</summary>
/// <param name="Name">Slurm's node name.</param>
/// <param name="Gpus">GPUs configured (its <c>gpu</c> GRES).</param>
/// <param name="Model">The GRES type of its GPUs (<c>gpu:h100:8</c> → <c>h100</c>); null when untyped.</param>
/// <param name="GpusUsed">GPUs allocated to jobs now, any user's.</param>
/// <param name="State">Slurm's full state, lower case with its flags (<c>mixed+drain</c>, <c>idle*</c>).</param>
internal sealed record SlurmNode(string Name, int Gpus, string? Model, int GpusUsed, string State);
