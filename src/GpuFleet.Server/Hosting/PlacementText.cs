using System.Globalization;
using System.Numerics;
using System.Text;
using GpuFleet.Core.Decisions;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// A placement's GPUs as recorded in a job's history: each node with its GPUs as ranges, e.g.
/// <c>12[0-3],13[0-7]</c> for GPUs 0–3 of node 12 and all eight of node 13 (node numbers are the
/// fleet's; GPU numbers are positions in the node).
/// </summary>
public static class PlacementText
{
    /// <summary>The nodes and GPUs of <paramref name="gpus"/>.</summary>
    public static string Nodes(IReadOnlyList<GpuAllocation> gpus)
    {
        var text = new StringBuilder();
        foreach (var g in gpus)
        {
            if (text.Length > 0) text.Append(',');
            text.Append(CultureInfo.InvariantCulture, $"{g.Node}[");
            var mask = g.Mask;
            var first = true;
            while (mask != 0)
            {
                // One run of consecutive set bits at a time: its lowest bit, and how many follow.
                var low = BitOperations.TrailingZeroCount(mask);
                var run = BitOperations.TrailingZeroCount(~(mask >> low));
                if (!first) text.Append(',');
                text.Append(run == 1 ? low.ToString(CultureInfo.InvariantCulture) : string.Create(CultureInfo.InvariantCulture, $"{low}-{low + run - 1}"));
                mask = run == 64 ? 0 : mask & ~(((1UL << run) - 1) << low);
                first = false;
            }
            text.Append(']');
        }
        return text.ToString();
    }
}
