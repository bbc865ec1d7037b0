using System.Numerics;

namespace GpuFleet.Core.Decisions;

/// <summary>GPUs of one node given to a job: bit i of <see cref="Mask"/> is GPU i of node <see cref="Node"/>.</summary>
public readonly record struct GpuAllocation(int Node, ulong Mask)
{
    /// <summary>Number of GPUs in this allocation.</summary>
    public int Count => BitOperations.PopCount(Mask);
}
