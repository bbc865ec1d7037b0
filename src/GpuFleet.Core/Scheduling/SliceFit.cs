using GpuFleet.Core.Fleets;

namespace GpuFleet.Core.Scheduling;

/// <summary>How one slice request runs on one GPU model (see <see cref="SliceShape"/>).</summary>
/// <param name="Serves">Whether the model can run it at all.</param>
/// <param name="Profile">The MIG profile it takes; null: a time-shared share.</param>
/// <param name="Sharing">The model's sharing rules.</param>
/// <param name="Units">Compute units of the GPU's <see cref="GpuSharing.UnitsPerGpu"/> it holds.</param>
/// <param name="MemoryMb">Device memory it holds, in MB.</param>
/// <param name="PerGpu">MIG: instances of its profile that fit one GPU.</param>
internal readonly record struct SliceFit(bool Serves, MigProfile? Profile, GpuSharing? Sharing, int Units, long MemoryMb, int PerGpu)
{
    /// <summary>How many such slices fit on one empty GPU of a model with <paramref name="gpuMemoryMb"/> of memory.</summary>
    public int PerEmptyGpu(long gpuMemoryMb) => !Serves ? 0
        : Profile is not null ? PerGpu
        : (int)Math.Min(GpuSharing.UnitsPerGpu / Units, MemoryMb <= 0 ? int.MaxValue : gpuMemoryMb / MemoryMb);
}
