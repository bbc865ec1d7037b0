using System.Globalization;

namespace GpuFleet.Core.Fleets;

/// <summary>
/// The pools of a site that takes its nodes from its cluster: the nodes the cluster lists, grouped into
/// pool specifications of one model and GPU count with consecutively numbered names, so that the fleet
/// keeps one name pattern per group rather than a string per node.
/// </summary>
/// <remarks>
/// Example: Slurm lists n01–n04 with <c>gpu:h100:8</c>, n05 with <c>gpu:h100:4</c> and n07–n08 with
/// <c>gpu:h100:8</c>; the fleet's models are B200 and H100. The pools are H100 × 8 named <c>n{01}</c>
/// (4 nodes), H100 × 4 named <c>n{05}</c> (1 node) and H100 × 8 named <c>n{07}</c> (2 nodes): the gap at
/// n06 starts a new group. Each node is an NVLink domain of its own (clusters do not list domains).
/// A node with no GPUs is left out; a node whose model the fleet does not know, or whose name does not
/// end in a number, is an error naming it.
/// </remarks>
public static class ClusterPools
{
    /// <summary>The pool specifications of <paramref name="site"/>'s <paramref name="nodes"/>.</summary>
    /// <param name="site">The site.</param>
    /// <param name="models">The fleet's GPU models.</param>
    /// <param name="nodes">What the cluster lists.</param>
    /// <param name="field">The field errors name, e.g. <c>sites[2].executor.inventory</c>.</param>
    /// <exception cref="FleetValidationException">A node cannot be a pool's node.</exception>
    public static IReadOnlyList<GpuPoolSpec> Of(Site site, IReadOnlyList<GpuModel> models, IReadOnlyList<ClusterNode> nodes, string field)
    {
        var fallback = site.Executor.Setting("model");
        var overhead = double.Parse(site.Executor.Setting("nodeOverheadWatts", "0")!, CultureInfo.InvariantCulture);
        var named = new List<(string Model, int Gpus, string Prefix, int Number, int Width, string Name)>();
        foreach (var node in nodes.Where(n => n.Gpus > 0))
        {
            var model = ModelOf(node, models, fallback, field);
            var digits = node.Name.Length - node.Name.AsSpan().TrimEnd("0123456789").Length;
            if (digits == 0 || digits > NodeNamePattern.MaxWidth || !int.TryParse(node.Name.AsSpan(node.Name.Length - digits), CultureInfo.InvariantCulture, out var number))
                throw new FleetValidationException(field, $"the cluster's node '{node.Name}' does not end in a number: list the site's pools in the fleet file instead");
            var width = digits > 1 && node.Name[^digits] == '0' ? digits : 1;
            named.Add((model, node.Gpus, node.Name[..^digits], number, width, node.Name));
        }
        var pools = new List<GpuPoolSpec>();
        foreach (var group in named.GroupBy(n => (n.Model, n.Gpus, n.Prefix, n.Width)))
        {
            var run = new List<int>();
            foreach (var number in group.Select(n => n.Number).Distinct().Order())
            {
                if (run.Count > 0 && number != run[^1] + 1) Close();
                run.Add(number);
            }
            Close();

            void Close()
            {
                if (run.Count == 0) return;
                var (model, gpus, prefix, width) = group.Key;
                pools.Add(new GpuPoolSpec(site.Name, model, gpus, 1, run.Count, overhead)
                {
                    NodeNames = $"{prefix}{{{NodeNamePattern.Number(run[0], width)}}}",
                });
                run.Clear();
            }
        }
        if (pools.Count == 0) throw new FleetValidationException(field, $"the cluster of site '{site.Name}' lists no node with GPUs");
        return pools;
    }

    // The fleet's model the cluster's name means: the same name (case aside), else the one fleet model
    // whose name is in it ("NVIDIA-H100-80GB-HBM3" is H100), else the executor's "model" setting.
    private static string ModelOf(ClusterNode node, IReadOnlyList<GpuModel> models, string? fallback, string field)
    {
        if (node.Model is { Length: > 0 } said)
        {
            if (models.FirstOrDefault(m => string.Equals(m.Name, said, StringComparison.OrdinalIgnoreCase)) is { } same) return same.Name;
            var within = models.Where(m => said.Contains(m.Name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (within.Count == 1) return within[0].Name;
        }
        if (fallback is not null)
            return models.FirstOrDefault(m => m.Name == fallback)?.Name
                ?? throw new FleetValidationException(field, $"model '{fallback}' is not one of the fleet's models ({string.Join(", ", models.Select(m => m.Name))})");
        throw new FleetValidationException(field, node.Model is null
            ? $"the cluster does not say which GPUs node '{node.Name}' has: set the executor's model"
            : $"the cluster's GPU model '{node.Model}' of node '{node.Name}' is none of the fleet's models ({string.Join(", ", models.Select(m => m.Name))}): set the executor's model");
    }
}
