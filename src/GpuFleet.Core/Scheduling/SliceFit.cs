using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>How one slice request runs on one GPU model (see <see cref="SliceShape"/>).</summary>
/// <param name="Serves">Whether the model can run it at all.</param>
/// <param name="Profile">The MIG profile it takes; null: a time-shared share.</param>
/// <param name="Sharing">The model's sharing rules.</param>
/// <param name="Units">Compute units of the GPU's <see cref="GpuSharing.UnitsPerGpu"/> it holds.</param>
/// <param name="MemoryMb">Device memory it holds, in MB.</param>
/// <param name="PerGpu">MIG: instances of its profile that fit one GPU.</param>
/// <param name="Covering">A fraction served by MIG: any instance whose profile has at least <see cref="MinComputeSlices"/>
/// and <see cref="MinMemoryGb"/> will do (it holds, and is charged, the instance it gets); <see cref="Profile"/> is the smallest.</param>
internal readonly record struct SliceFit(bool Serves, MigProfile? Profile, GpuSharing? Sharing, int Units, long MemoryMb, int PerGpu,
    bool Covering = false, int MinComputeSlices = 0, double MinMemoryGb = 0)
{
    /// <summary>Whether an instance of <paramref name="profile"/> serves the slice.</summary>
    public bool Accepts(MigProfile profile) => Covering
        ? profile.ComputeSlices >= MinComputeSlices && profile.MemoryGb >= MinMemoryGb
        : ReferenceEquals(profile, Profile) || profile.Name == Profile?.Name;

    /// <summary>How many such slices fit on one empty GPU of a model with <paramref name="gpuMemoryMb"/> of memory.</summary>
    public int PerEmptyGpu(long gpuMemoryMb) => !Serves ? 0
        : Profile is not null ? PerGpu
        : (int)Math.Min(GpuSharing.UnitsPerGpu / Units, MemoryMb <= 0 ? int.MaxValue : gpuMemoryMb / MemoryMb);
}
