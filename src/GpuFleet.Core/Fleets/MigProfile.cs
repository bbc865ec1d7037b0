namespace GpuFleet.Core.Fleets;

/// <summary>
/// A MIG (Multi-Instance GPU) profile of a GPU model: a hardware slice with its own compute and memory.
/// <para>Example, H100 80 GB (NVIDIA MIG User Guide, "Supported MIG Profiles"; <c>nvidia-smi mig -lgipp</c>):
/// <c>3g.40gb</c> has 3 of the 7 compute slices and 4 of the 8 memory slices, and may start at memory
/// slice 0 or 4 (<see cref="Placements"/> = [0, 4]); so two fit, and a <c>4g.40gb</c> (placement [0]) fits
/// beside one at 4 but never beside one at 0.</para>
/// </summary>
/// <param name="Name">The profile's name as jobs ask for it (<c>1g.23gb</c>).</param>
/// <param name="ComputeSlices">Compute slices it takes (of <see cref="GpuSharing.ComputeSlices"/>).</param>
/// <param name="MemorySlices">Memory slices it spans, from its start (of <see cref="GpuSharing.MemorySlices"/>).</param>
/// <param name="MemoryGb">Device memory a job on it may use.</param>
/// <param name="Placements">Memory slices at which an instance of it may start.</param>
public sealed record MigProfile(string Name, int ComputeSlices, int MemorySlices, double MemoryGb, IReadOnlyList<int> Placements)
{
    /// <summary>The memory slices an instance that starts at <paramref name="start"/> covers, as a mask.</summary>
    public uint MaskAt(int start) => ((1u << MemorySlices) - 1) << start;
}
