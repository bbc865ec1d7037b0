using System.Numerics;

namespace GpuFleet.Core.Decisions;

/// <summary>GPUs of one node given to a job: bit i of <see cref="Mask"/> is GPU i of node <see cref="Node"/>.</summary>
public readonly record struct GpuAllocation(int Node, ulong Mask)
{
    /// <summary>Number of GPUs in this allocation.</summary>
    public int Count => BitOperations.PopCount(Mask);

    /// <summary>The GPU positions in the node, ascending: mask 0b1011 → [0, 1, 3].</summary>
    public int[] Positions()
    {
        var positions = new int[Count];
        var mask = Mask;
        for (var i = 0; mask != 0; i++, mask &= mask - 1) positions[i] = BitOperations.TrailingZeroCount(mask);
        return positions;
    }

    /// <summary>The allocation of GPUs <paramref name="positions"/> of node <paramref name="node"/>.</summary>
    public static GpuAllocation Of(int node, IEnumerable<int> positions) => new(node, positions.Aggregate(0UL, (mask, g) => mask | 1UL << g));
}
