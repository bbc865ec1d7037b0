namespace GpuFleet.Core.Decisions;

/// <summary>One slice of a GPU given to a job.</summary>
/// <param name="Node">The node.</param>
/// <param name="Gpu">The GPU's position in the node.</param>
/// <param name="MigProfile">The MIG profile of the instance; null for a time-shared share.</param>
/// <param name="MigStart">The memory slice the MIG instance starts at (0 for time-sharing).</param>
/// <param name="Fraction">Its share of the GPU's compute (the GPU-equivalents it is charged).</param>
/// <param name="MemoryGb">Device memory it holds.</param>
public sealed record SlicePlacement(int Node, int Gpu, string? MigProfile, int MigStart, double Fraction, double MemoryGb);
