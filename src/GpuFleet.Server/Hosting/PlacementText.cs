using System.Globalization;
using System.Numerics;
using System.Text;
using GpuFleet.Core.Decisions;
using GpuFleet.Core.Fleets;
using GpuFleet.Server.Api;

namespace GpuFleet.Server.Hosting;

/// <summary>
/// A placement's GPUs in words, as a job's <c>placement</c> and history show them: its nodes by name in
/// Slurm's host-list form, whole nodes first (<c>philly-p100-[0001-0004,0009]</c>), then each node of which
/// the job has only some GPUs with those GPUs (<c>philly-p100-0012 (GPUs 0-3)</c>), joined by commas:
/// <c>philly-p100-[0001-0004],philly-p100-0012 (GPUs 0-3)</c>. GPU numbers are positions in the node.
/// <see cref="Parse"/> reads it back, GPU by GPU.
/// </summary>
public static class PlacementText
{
    /// <summary>What comes before the nodes in a placement (<c>site/model: nodes ...</c>).</summary>
    public const string NodesMarker = ": nodes ";

    /// <summary>Where a placement runs, as the job's <c>placement</c> and history say it: <c>site/model: nodes ...</c>.</summary>
    public static string Where(PlacementDecision placement, Fleet fleet) =>
        $"{fleet.Sites[placement.Site].Name}/{fleet.Models[placement.Model].Name}{NodesMarker}{Nodes(placement.Gpus, fleet)}";

    /// <summary>The nodes and GPUs of <paramref name="gpus"/>, named as in <paramref name="fleet"/>.</summary>
    public static string Nodes(IReadOnlyList<GpuAllocation> gpus, Fleet fleet)
    {
        var whole = new List<string>();
        // Partly taken nodes that have the same GPUs taken share one element per prefix.
        var partial = new List<(ulong Mask, List<string> Names)>();
        foreach (var g in gpus)
        {
            var name = fleet.NodeName(g.Node);
            if (g.Count == fleet.NodeGpus(g.Node))
            {
                whole.Add(name);
                continue;
            }
            var group = partial.FindIndex(p => p.Mask == g.Mask);
            if (group < 0) partial.Add((g.Mask, [name]));
            else partial[group].Names.Add(name);
        }
        var elements = new List<string>(HostList.Elements(whole));
        foreach (var (mask, names) in partial)
        {
            var which = Gpus(mask);
            elements.AddRange(HostList.Elements(names).Select(e => $"{e} ({which})"));
        }
        return string.Join(',', elements);
    }

    /// <summary>
    /// The nodes and GPUs that a placement text names (what <see cref="Nodes"/> wrote, alone or after
    /// <c>site/model: nodes </c> as in a job's placement and its history), in the order written; null when
    /// the text names no node of <paramref name="fleet"/> this way.
    /// </summary>
    public static IReadOnlyList<NodeView>? Parse(string? text, Fleet fleet)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var at = text.LastIndexOf(NodesMarker, StringComparison.Ordinal);
        var nodes = at >= 0 ? text[(at + NodesMarker.Length)..] : text;
        var result = new List<NodeView>();
        try
        {
            foreach (var element in Elements(nodes))
            {
                // "name-or-ranges (GPUs 0-3,6)" for part of a node, "name-or-ranges" for whole ones.
                var open = element.IndexOf(" (", StringComparison.Ordinal);
                int[]? gpus = null;
                if (open >= 0)
                {
                    if (!element.EndsWith(')')) return null;
                    gpus = GpuNumbers(element[(open + 2)..^1]);
                    if (gpus is null) return null;
                }
                foreach (var name in HostList.Expand(open >= 0 ? element[..open] : element))
                {
                    var node = fleet.NodeIndex(name);
                    if (node < 0 || gpus is not null && gpus[^1] >= fleet.NodeGpus(node)) return null;
                    result.Add(new NodeView(fleet.NodeName(node), gpus ?? [.. Enumerable.Range(0, fleet.NodeGpus(node))]));
                }
            }
        }
        catch (FormatException)
        {
            return null;
        }
        return result.Count > 0 ? result : null;
    }

    // "GPUs 0-3,6" or "GPU 5": GPU numbers as runs of consecutive bits.
    private static string Gpus(ulong mask)
    {
        var text = new StringBuilder(BitOperations.PopCount(mask) == 1 ? "GPU " : "GPUs ");
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
        return text.ToString();
    }

    // The GPU numbers of "GPUs 0-3,6" / "GPU 5", ascending, or null when the text is not that.
    private static int[]? GpuNumbers(string text)
    {
        var list = text.StartsWith("GPUs ", StringComparison.Ordinal) ? text[5..] : text.StartsWith("GPU ", StringComparison.Ordinal) ? text[4..] : null;
        if (list is null) return null;
        var numbers = new List<int>();
        foreach (var range in list.Split(','))
        {
            var bounds = range.Split('-');
            if (bounds.Length > 2 || !int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var from)
                || !int.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var to) || to < from || to >= Fleet.MaxGpusPerNode
                || numbers.Count > 0 && from <= numbers[^1])
                return null;
            for (var g = from; g <= to; g++) numbers.Add(g);
        }
        return [.. numbers];
    }

    // The comma-separated elements; commas inside brackets or parentheses belong to their element.
    private static IEnumerable<string> Elements(string text)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '[' or '(') depth++;
            else if (text[i] is ']' or ')') depth--;
            else if (text[i] == ',' && depth == 0)
            {
                yield return text[start..i];
                start = i + 1;
            }
        }
        yield return text[start..];
    }
}
