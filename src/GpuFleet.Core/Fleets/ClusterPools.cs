using System.Globalization;

namespace GpuFleet.Core.Fleets;

/// <summary>
/// The pools of a site that takes its nodes from its cluster: the nodes the cluster lists, grouped into
/// pool specifications of one model, GPU count, CPU count and memory with consecutively numbered names, so
/// that the fleet keeps one name pattern per group rather than a string per node.
/// </summary>
/// <remarks>
/// Example: Slurm lists n01–n04 with <c>gpu:h100:8</c>, n05 with <c>gpu:h100:4</c> and n07–n08 with
/// <c>gpu:h100:8</c>; the fleet's models are B200 and H100. The pools are H100 × 8 named <c>n{01}</c>
/// (4 nodes), H100 × 8 named <c>n{07}</c> (2 nodes) and H100 × 4 named <c>n{05}</c> (1 node): the gap at
/// n06 starts a new group. A node the cluster puts in no NVLink domain is a domain of its own. CPU cores and
/// memory are the pool's per node, as the cluster lists them (0 where it does not say: not counted); a node
/// with other numbers than its neighbour's starts a new specification, as a different GPU count does.
/// Nodes the cluster puts in one NVLink domain (Kubernetes: one <c>nvidia.com/gpu.clique</c> label value, a
/// GB200 NVL72 rack) are one domain: gb-01–gb-18 of clique <c>&lt;uuid&gt;.1</c> and gb-19–gb-36 of clique <c>&lt;uuid&gt;.2</c>
/// are two domains of 18 nodes × 4 GPUs; if gb-07 is missing from the first, its gb-01–gb-06 and gb-08–gb-18
/// are two specifications that stay one domain of 17 nodes (<see cref="GpuPoolSpec.NvlinkDomain"/>).
/// A node with no GPUs is left out; a node whose model the fleet does not know, or whose name does not
/// end in a number, is an error naming it.
/// <para>Spare nodes (the executor's <c>spareNodes</c>: N per group of names) are nodes the cluster does not list yet,
/// which the fleet holds out of service until it does: the numbers missing between a group's nodes, lowest first, then
/// those after its last, each of the shape of the node numbered before it. With <c>spareNodes: 3</c>, the example's
/// n-group gets n06 (H100 × 4, as n05) and n09–n10 (H100 × 8, as n08): pools n{01} of 4 nodes, n{07} of 4 and n{05}
/// of 2. A spare in a gap inside an NVLink clique (gb-07 above) is in that clique's domain; others are domains of
/// their own. When the cluster lists a node of a spare's name and shape, it goes into service like any node that
/// comes back.</para>
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
        var slots = new List<Slot>();
        foreach (var node in nodes.Where(n => n.Gpus > 0))
        {
            var model = ModelOf(node, models, fallback, field);
            var digits = node.Name.Length - node.Name.AsSpan().TrimEnd("0123456789").Length;
            if (digits == 0 || digits > NodeNamePattern.MaxWidth || !int.TryParse(node.Name.AsSpan(node.Name.Length - digits), CultureInfo.InvariantCulture, out var number))
                throw new FleetValidationException(field, $"the cluster's node '{node.Name}' does not end in a number: list the site's pools in the fleet file instead");
            var width = digits > 1 && node.Name[^digits] == '0' ? digits : 1;
            slots.Add(new Slot(model, node.Gpus, node.Name[..^digits], width, number, node.NvlinkDomain is { Length: > 0 } domain ? domain : null,
                Math.Max(0, node.Cpus), Math.Max(0, node.MemoryGb)));
        }
        slots = Padded(slots);
        slots.AddRange(Spares(slots, int.Parse(site.Executor.Setting("spareNodes", "0")!, CultureInfo.InvariantCulture)));
        var pools = new List<GpuPoolSpec>();
        // Nodes in no NVLink domain: by model, GPU count and name, each run of consecutive numbers one specification.
        foreach (var group in slots.Where(s => s.Domain is null).GroupBy(s => (s.Model, s.Gpus, s.Prefix, s.Width, s.Cpus, s.MemoryGb)))
            foreach (var run in Runs(group, (a, b) => true))
                pools.Add(new GpuPoolSpec(site.Name, group.Key.Model, group.Key.Gpus, 1, run.Count, overhead) { NodeNames = NamesOf(run), CpusPerNode = group.Key.Cpus, MemoryGbPerNode = group.Key.MemoryGb });
        // Nodes of one NVLink domain: one domain, of one specification per run of consecutive names.
        foreach (var domain in slots.Where(s => s.Domain is not null).GroupBy(s => (s.Model, s.Domain)))
            foreach (var run in Runs(domain, (a, b) => a.Prefix == b.Prefix && a.Width == b.Width && a.Gpus == b.Gpus && a.Cpus == b.Cpus && a.MemoryGb == b.MemoryGb))
                pools.Add(new GpuPoolSpec(site.Name, domain.Key.Model, run[0].Gpus, run.Count, 1, overhead)
                {
                    NodeNames = NamesOf(run), NvlinkDomain = domain.Key.Domain, CpusPerNode = run[0].Cpus, MemoryGbPerNode = run[0].MemoryGb,
                });
        if (pools.Count == 0) throw new FleetValidationException(field, $"the cluster of site '{site.Name}' lists no node with GPUs");
        return pools;
    }

    /// <summary>
    /// The fleet model a node the cluster lists is of: the model of the same name (case aside), else the one fleet
    /// model whose name is in the cluster's ("NVIDIA-H100-80GB-HBM3" is H100), else <paramref name="fallback"/> (the
    /// executor's <c>model</c> setting); null when none of these is a fleet model.
    /// </summary>
    public static string? FleetModelOf(ClusterNode node, IReadOnlyList<GpuModel> models, string? fallback)
    {
        if (node.Model is { Length: > 0 } said)
        {
            if (models.FirstOrDefault(m => string.Equals(m.Name, said, StringComparison.OrdinalIgnoreCase)) is { } same) return same.Name;
            var within = models.Where(m => said.Contains(m.Name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (within.Count == 1) return within[0].Name;
        }
        return fallback is null ? null : models.FirstOrDefault(m => m.Name == fallback)?.Name;
    }

    private static string ModelOf(ClusterNode node, IReadOnlyList<GpuModel> models, string? fallback, string field)
    {
        if (FleetModelOf(node, models, fallback) is { } model) return model;
        if (fallback is not null && models.All(m => m.Name != fallback))
            throw new FleetValidationException(field, $"model '{fallback}' is not one of the fleet's models ({string.Join(", ", models.Select(m => m.Name))})");
        throw new FleetValidationException(field, node.Model is null
            ? $"the cluster does not say which GPUs node '{node.Name}' has: set the executor's model"
            : $"the cluster's GPU model '{node.Model}' of node '{node.Name}' is none of the fleet's models ({string.Join(", ", models.Select(m => m.Name))}): set the executor's model");
    }

    // The slots in order of name, cut where a number does not follow the one before or where two neighbours may not share a specification.
    private static List<List<Slot>> Runs(IEnumerable<Slot> slots, Func<Slot, Slot, bool> together)
    {
        var runs = new List<List<Slot>>();
        foreach (var slot in slots.DistinctBy(s => (s.Prefix, s.Width, s.Number)).OrderBy(s => s.Prefix, StringComparer.Ordinal).ThenBy(s => s.Width).ThenBy(s => s.Number))
        {
            if (runs.Count > 0 && runs[^1][^1] is var last && last.Prefix == slot.Prefix && last.Width == slot.Width && last.Number + 1 == slot.Number && together(last, slot))
                runs[^1].Add(slot);
            else runs.Add([slot]);
        }
        return runs;
    }

    // Up to `count` spare nodes per group of names (prefix and width): the numbers missing between the group's nodes,
    // lowest first, then those after its last; each of the shape of the node before it, and in that node's NVLink
    // domain when the node after it is in the same one (a gap inside a rack). A name another node has is skipped.
    private static List<Slot> Spares(List<Slot> slots, int count)
    {
        var spares = new List<Slot>();
        if (count <= 0) return spares;
        var names = slots.Select(s => s.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var group in slots.GroupBy(s => (s.Prefix, s.Width)))
        {
            var listed = group.DistinctBy(s => s.Number).OrderBy(s => s.Number).ToList();
            var left = count;
            for (var i = 0; left > 0 && i < listed.Count; i++)
            {
                var (below, above) = (listed[i], i + 1 < listed.Count ? listed[i + 1] : null);
                var domain = above is not null && below.Domain == above.Domain ? below.Domain : null;
                for (var number = (long)below.Number + 1; left > 0 && number <= int.MaxValue && (above is null || number < above.Number); number++)
                {
                    var spare = below with { Number = (int)number, Domain = domain };
                    if (names.Add(spare.Name))
                    {
                        spares.Add(spare);
                        left--;
                    }
                }
            }
        }
        return spares;
    }

    // A number without a leading zero reads as padded to the width of its prefix's padded numbers when it has as many
    // digits: n09 and n10 are n{01}'s 9th and 10th nodes, not two patterns (n100 is n{01}'s too; n001 is another pattern).
    private static List<Slot> Padded(List<Slot> slots)
    {
        var widths = slots.Where(s => s.Width > 1).GroupBy(s => s.Prefix).ToDictionary(g => g.Key, g => g.Max(s => s.Width), StringComparer.Ordinal);
        return [.. slots.Select(s => s.Width == 1 && widths.TryGetValue(s.Prefix, out var w) && NodeNamePattern.Number(s.Number, 1).Length >= w ? s with { Width = w } : s)];
    }

    private static string NamesOf(List<Slot> run) => $"{run[0].Prefix}{{{NodeNamePattern.Number(run[0].Number, run[0].Width)}}}";

    // A node the fleet will hold (listed by the cluster, or a spare), by the parts of its name.
    private sealed record Slot(string Model, int Gpus, string Prefix, int Width, int Number, string? Domain, int Cpus, int MemoryGb)
    {
        public string Name => Prefix + NodeNamePattern.Number(Number, Width);
    }
}
