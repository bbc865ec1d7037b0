namespace GpuFleet.Core.Workloads;

/// <summary>
/// Part of one GPU, asked for by a job: a MIG profile by name, or a fraction of the GPU's time with a
/// memory size (time-sharing). A job of <see cref="JobSpec.Gpus"/> = 3 with a slice asks for three such
/// slices, all on one node.
/// <para>A fraction on a model that time-shares runs there as asked; on a model that only has MIG it takes
/// the smallest profile with at least that share of compute and that memory.</para>
/// </summary>
/// <param name="MigProfile">The MIG profile (<c>1g.23gb</c>); null for a time-shared fraction.</param>
/// <param name="GpuFraction">Share of the GPU's compute, above 0 and below 1 (ignored with a MIG profile).</param>
/// <param name="GpuMemoryGb">Device memory the job needs (a time-shared GPU never gives out more than it has).</param>
public sealed record SliceRequest(string? MigProfile, double GpuFraction, double GpuMemoryGb)
{
    /// <summary>GPU-equivalents <paramref name="members"/> such slices ask for as stated: the fraction (a MIG profile's share depends on the model, so it counts as a whole GPU here).</summary>
    public double StatedGpus(int members) => MigProfile is null ? members * GpuFraction : members;

    /// <summary>How a trace cell or API field spells it: <c>mig:1g.23gb</c>, or <c>0.25:20</c> (fraction : memory GB).</summary>
    public override string ToString() => MigProfile is not null
        ? $"mig:{MigProfile}"
        : FormattableString.Invariant($"{GpuFraction}:{GpuMemoryGb}");
}
