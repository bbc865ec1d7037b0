namespace GpuFleet.Executors;

/// <summary>One slice of a GPU given to a job, as an executor starts it.</summary>
/// <param name="Node">The node by its cluster name.</param>
/// <param name="Gpu">The GPU's index in the node.</param>
/// <param name="MigProfile">The MIG profile of the instance (<c>1g.23gb</c>); null for a time-shared share.</param>
/// <param name="MigStart">The memory slice the MIG instance starts at (0 for a time-shared share).</param>
/// <param name="Fraction">Its share of the GPU's compute.</param>
/// <param name="MemoryGb">Device memory it holds.</param>
public sealed record GpuSlice(string Node, int Gpu, string? MigProfile, int MigStart, double Fraction, double MemoryGb)
{
    /// <summary>Whether it is a MIG instance (else a time-shared share of the whole GPU).</summary>
    public bool IsMig => MigProfile is not null;
}
