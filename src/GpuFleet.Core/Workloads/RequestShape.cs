namespace GpuFleet.Core.Workloads;

/// <summary>What one job asks for: GPUs (or slices), the slice, and CPU and memory per GPU.</summary>
/// <param name="Gpus">Whole GPUs, or slices with <paramref name="Slice"/>.</param>
/// <param name="Slice">Part of a GPU per member; null: whole GPUs.</param>
/// <param name="CpusPerGpu">CPU cores per GPU (or slice).</param>
/// <param name="MemoryGbPerGpu">Memory in GB per GPU (or slice).</param>
public sealed record RequestShape(int Gpus, SliceRequest? Slice, double CpusPerGpu, double MemoryGbPerGpu)
{
    /// <summary>GPU-equivalents it asks for as stated (a time-shared fraction; before any rounding up to a MIG profile).</summary>
    public double StatedGpus => Slice?.StatedGpus(Gpus) ?? Gpus;

    /// <summary>The same request with its slices rounded up to whole GPUs (sharing switched off).</summary>
    public RequestShape RoundedUp() => Slice is null ? this : this with { Slice = null };
}
