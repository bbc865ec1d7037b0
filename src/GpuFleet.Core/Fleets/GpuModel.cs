namespace GpuFleet.Core.Fleets;

/// <summary>A GPU model: what one device offers and what it draws.</summary>
/// <param name="Name">Model name as jobs ask for it, e.g. <c>B200</c>.</param>
/// <param name="MemoryGb">Device memory in GB.</param>
/// <param name="BusyWatts">Board power while running a job.</param>
/// <param name="IdleWatts">Board power while idle.</param>
/// <param name="RelativeSpeed">Throughput relative to an H100 (1.0).</param>
public sealed record GpuModel(string Name, double MemoryGb, double BusyWatts, double IdleWatts, double RelativeSpeed)
{
    /// <summary>How jobs may share one GPU of this model (MIG slices, time-sharing); null: whole GPUs only.</summary>
    public GpuSharing? Sharing { get; init; }
}
