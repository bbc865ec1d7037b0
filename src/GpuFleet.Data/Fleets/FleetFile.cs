using GpuFleet.Core.Fleets;
using GpuFleet.Data.Yaml;

namespace GpuFleet.Data.Fleets;

/// <summary>
/// Loads a fleet from YAML (<c>fleets/*.yaml</c>; the format is described in <c>docs/fleet-format.md</c>).
/// Every error names the file, the line and the field.
/// </summary>
public static class FleetFile
{
    /// <summary>Reads and validates a fleet file.</summary>
    /// <exception cref="DataFileException">The file is missing, is not valid YAML, or has a bad field.</exception>
    /// <param name="path">The fleet file.</param>
    /// <param name="clusterNodes">
    /// The nodes a site's cluster lists, for sites whose executor has <c>inventory: cluster</c> (the live
    /// server asks each cluster); null: such sites have only the pools the file lists (the twin).
    /// </param>
    public static Fleet Load(string path, Func<Site, IReadOnlyList<ClusterNode>>? clusterNodes = null)
    {
        if (!File.Exists(path)) throw new DataFileException(path, 0, "file", "not found");
        using var reader = new StreamReader(path);
        return Parse(reader, path, clusterNodes);
    }

    /// <summary>Parses fleet YAML; <paramref name="file"/> is used in error messages.</summary>
    public static Fleet Parse(TextReader text, string file, Func<Site, IReadOnlyList<ClusterNode>>? clusterNodes = null)
    {
        var root = YamlMap.Document(text, file);
        // A fleet that extends another is that fleet with its own models, sites, pools and links after the other's.
        var roots = WithBases(root, file, []);
        var name = root.Text("name");
        root.Allow("description");
        // The installation whose runs GpuFleet starts on the fleet's clusters (serve --installation overrides it); its own, else its base's.
        // Every root is asked (Has marks the key as known in each): the last that names one wins.
        var named = roots.Where(r => r.Has("installation")).ToList().LastOrDefault();
        var installation = named?.Text("installation");
        if (installation is not null && InstallationName.Problem(installation) is { } wrong) throw named!.Error("installation", wrong);

        // The mappings of models' sharing sections and their MIG profiles, for the lines of the core's errors about them.
        var sharingMaps = new List<YamlMap>();
        var models = Items(roots, "models", m =>
        {
            var model = new GpuModel(
                m.Text("name"),
                m.Number("memoryGb", min: 0, exclusiveMin: true),
                m.Number("busyWatts", min: 0, exclusiveMin: true),
                m.Number("idleWatts", min: 0),
                m.Number("relativeSpeed", min: 0, exclusiveMin: true))
            {
                Sharing = SharingOf(m, sharingMaps),
            };
            if (model.IdleWatts > model.BusyWatts) throw m.Error("idleWatts", "must not exceed busyWatts");
            return model;
        });
        var sites = Items(roots, "sites", s => new Site(
            s.Text("name"),
            s.Text("owner"),
            s.Text("region", "unspecified"),
            s.Number("powerCapMw", min: 0, exclusiveMin: true),
            s.Number("pue", 1.0, min: 1.0, max: 3.0))
        {
            PricePerMwh = s.Number("pricePerMwh", 0, min: 0),
            Executor = ExecutorOf(s),
            Dedicated = s.Bool("dedicated", false),
        });
        // A fleet whose sites all take their nodes from their clusters may list no pools.
        var poolsFromClusters = sites.Any(s => s.Item.Executor.TakesNodesFromCluster);
        var pools = Items(roots, "pools", required: !poolsFromClusters, read: p => new GpuPoolSpec(
            p.Text("site"),
            p.Text("model"),
            p.Integer("gpusPerNode", min: 1, max: Fleet.MaxGpusPerNode),
            p.Integer("nodesPerDomain", 1, min: 1, max: 1_000),
            p.Integer("domains", min: 1, max: 1_000_000),
            p.Number("nodeOverheadWatts", 0, min: 0))
        {
            NodeNames = p.Has("nodeNames") ? p.Text("nodeNames") : null,
            CpusPerNode = p.Integer("cpusPerNode", 0, min: 0, max: MaxCpusPerNode),
            MemoryGbPerNode = p.Integer("memoryGbPerNode", 0, min: 0, max: MaxMemoryGbPerNode),
        });
        var links = Items(roots, "links", l => new SiteLink(l.Text("from"), l.Text("to"), l.Number("gbps", min: 0, exclusiveMin: true))
        {
            LatencyMs = l.Number("latencyMs", 0, min: 0),
        }, required: false);
        foreach (var r in roots) r.RejectUnknown();

        try
        {
            var modelList = models.Select(m => m.Item).ToList();
            var fromClusters = clusterNodes is null ? [] : sites
                .Select((s, i) => (Site: s.Item, Field: $"sites[{i}].executor.inventory"))
                .Where(s => s.Site.Executor.TakesNodesFromCluster)
                .SelectMany(s => ClusterPools.Of(s.Site, modelList, clusterNodes(s.Site), s.Field));
            return new Fleet(name, modelList, [.. sites.Select(s => s.Item)], [.. pools.Select(p => p.Item), .. fromClusters], [.. links.Select(l => l.Item)])
            {
                Installation = installation,
            };
        }
        catch (FleetValidationException e)
        {
            var problem = e.Message[(e.Field.Length + 2)..];
            // In a fleet that extends another, the core's item is found in the file that lists it, under its place there.
            if (roots.Count > 1 && ListedItem(e.Field, new Dictionary<string, IReadOnlyList<YamlMap>>
                {
                    ["models"] = [.. models.Select(m => m.Map)], ["sites"] = [.. sites.Select(m => m.Map)],
                    ["pools"] = [.. pools.Select(m => m.Map)], ["links"] = [.. links.Select(m => m.Map)],
                }) is var (map, rest) && map is not null)
                throw new DataFileException(map.File, map.LineOf(rest.TrimStart('.').Split('.', '[')[0]), map.Path + rest, problem);
            // Point at the line of the field the core complained about, else of its list item.
            // The sharing sections first: a field under models[0].sharing is theirs, not the model's.
            var line = LineFor(e.Field, sharingMaps, models.Select(m => m.Map), sites.Select(s => s.Map), pools.Select(p => p.Map), links.Select(l => l.Map));
            throw new DataFileException(file, line, e.Field, problem);
        }
    }

    /// <summary>Most files in a chain of fleets that extend one another: a file and at most 3 fleets under it.</summary>
    public const int MaxExtends = 4;

    // The file's root after the roots of the fleets it extends (extends: a path relative to the file), the first base first.
    private static List<YamlMap> WithBases(YamlMap root, string file, List<string> chain)
    {
        if (!root.Has("extends")) return [root];
        var full = Path.GetFullPath(file);
        var relative = root.Text("extends");
        var basePath = Path.GetFullPath(Path.IsPathRooted(relative) ? relative : Path.Combine(Path.GetDirectoryName(full) ?? ".", relative));
        if (basePath == full || chain.Contains(basePath)) throw root.Error("extends", $"'{relative}' leads back to this file: fleets cannot extend one another in a circle");
        if (chain.Count + 1 >= MaxExtends) throw root.Error("extends", $"more than {MaxExtends} fleets extend one another");
        if (!File.Exists(basePath)) throw root.Error("extends", $"'{relative}' not found (a path relative to this file)");
        using var reader = new StreamReader(basePath);
        var baseRoot = YamlMap.Document(reader, basePath);
        // A base's own name and description are its own: the fleet that extends it names the whole.
        baseRoot.Allow("name", "description");
        return [.. WithBases(baseRoot, basePath, [.. chain, full]), root];
    }

    // The list item a core field such as "sites[12].name" names in the combined lists, and what follows its index.
    private static (YamlMap? Map, string After) ListedItem(string field, IReadOnlyDictionary<string, IReadOnlyList<YamlMap>> lists)
    {
        var open = field.IndexOf('[', StringComparison.Ordinal);
        var close = field.IndexOf(']', StringComparison.Ordinal);
        if (open < 0 || close < open || !int.TryParse(field.AsSpan(open + 1, close - open - 1), out var index)
            || !lists.TryGetValue(field[..open], out var maps) || index >= maps.Count) return (null, "");
        return (maps[index], field[(close + 1)..]);
    }

    // Far above any server's cores (a GB200 NVL72 tray has 144) and memory; a typo of a few digits more is caught.
    private const int MaxCpusPerNode = 100_000;
    private const int MaxMemoryGbPerNode = 100_000_000;

    // A model's "sharing:" section: MIG geometry and profiles, time-sharing. The core checks how the
    // profiles fit the geometry (Fleet.CheckSharing); its errors point at the lines kept in maps.
    // Example: sharing: { timeSharing: true, migProfiles: [{ name: 1g.23gb, computeSlices: 1, memorySlices: 1, memoryGb: 23, placements: [0, 1, 2, 3, 4, 5, 6] }] }.
    private static GpuSharing? SharingOf(YamlMap model, List<YamlMap> maps)
    {
        if (model.Mapping("sharing") is not { } s) return null;
        var profiles = new List<MigProfile>();
        foreach (var p in s.List("migProfiles", required: false))
        {
            profiles.Add(new MigProfile(
                p.Text("name"),
                p.Integer("computeSlices", min: 1, max: 8),
                p.Integer("memorySlices", min: 1, max: 32),
                p.Number("memoryGb", min: 0, exclusiveMin: true),
                p.IntegerList("placements", min: 0, max: 31)));
            p.Allow("notes");
            p.RejectUnknown();
            maps.Add(p);
        }
        var sharing = new GpuSharing(
            s.Integer("computeSlices", 7, min: 1, max: 8),
            s.Integer("memorySlices", 8, min: 1, max: 32),
            profiles,
            s.Bool("timeSharing", false),
            s.Seconds("reconfigureSeconds", 60))
        {
            Source = s.Has("source") ? s.Text("source") : null,
        };
        s.Allow("notes");
        s.RejectUnknown();
        if (profiles.Count == 0 && !sharing.TimeSharing) throw s.Error("migProfiles", "a model that may be shared needs MIG profiles or timeSharing: true");
        maps.Add(s);
        return sharing;
    }

    // A site's "executor:" section: its kind, the kind's settings, and the settings every kind takes.
    // Example: executor: { kind: slurm, partition: gpu, pollSeconds: 2 }.
    private static SiteExecutorSpec ExecutorOf(YamlMap site)
    {
        if (site.Mapping("executor") is not { } e) return SiteExecutorSpec.Simulated;
        var kind = e.Text("kind");
        if (!SiteExecutorSpec.KindSettings.TryGetValue(kind, out var own))
            throw e.Error("kind", $"unknown executor '{kind}' (known: {string.Join(", ", SiteExecutorSpec.Kinds)})");
        static string Whole(int n) => n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in own.Where(e.Has))
            settings[key] = key switch
            {
                "virtualGpus" => Whole(e.Integer(key, min: 0, max: Fleet.MaxGpusPerNode)),
                // Shards of each GPU in the Slurm cluster's gres.conf, for time-shared GPU slices.
                "shardsPerGpu" => Whole(e.Integer(key, min: 1, max: 10_000)),
                _ => e.Text(key),
            };
        if (kind != "simulated")
            foreach (var key in SiteExecutorSpec.CommonSettings.Where(e.Has)) settings[key] = Whole(e.Integer(key, min: 1, max: key == "setAsideSeconds" ? 86_400 : 3600));
        if (kind != "simulated") ReadInventory(e, settings);
        if (kind == "slurm") CheckSlurmTransport(e, settings);
        e.RejectUnknown();
        return new SiteExecutorSpec(kind, settings);
    }

    // Most spare nodes per group of names: each is a node of the fleet (arrays of the scheduler's state), out of service until listed.
    private const int MaxSpareNodes = 10_000;

    // Where a real site's nodes come from: the fleet file (the default) or its cluster when the server starts.
    // Example: executor: { kind: slurm, inventory: cluster, model: H100, spareNodes: 4 }.
    private static void ReadInventory(YamlMap e, Dictionary<string, string> settings)
    {
        if (!e.Has("inventory"))
        {
            foreach (var key in (string[])["model", "nodeOverheadWatts", "spareNodes"])
                if (e.Has(key)) throw e.Error(key, "applies only with inventory: cluster");
            return;
        }
        var inventory = e.Text("inventory");
        if (inventory is not ("file" or "cluster")) throw e.Error("inventory", $"must be file or cluster, not '{inventory}'");
        settings["inventory"] = inventory;
        if (e.Has("model")) settings["model"] = e.Text("model");
        if (e.Has("nodeOverheadWatts")) settings["nodeOverheadWatts"] = e.Number("nodeOverheadWatts", 0, min: 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (e.Has("spareNodes"))
        {
            if (inventory != "cluster") throw e.Error("spareNodes", "applies only with inventory: cluster");
            settings["spareNodes"] = e.Integer("spareNodes", min: 0, max: MaxSpareNodes).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    // Slurm through slurmrestd (restUrl, with a JWT as token or in tokenFile) or through its tools
    // (slurmConf, toolDirectory): the settings of one transport, not both.
    // Example: executor: { kind: slurm, restUrl: http://head:6820, user: root, tokenFile: /etc/gpufleet/jwt }.
    private static void CheckSlurmTransport(YamlMap e, Dictionary<string, string> settings)
    {
        if (!settings.TryGetValue("restUrl", out var url))
        {
            foreach (var key in (string[])["user", "token", "tokenFile"])
                if (settings.ContainsKey(key)) throw e.Error(key, "applies to slurmrestd only: give restUrl too");
            return;
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw e.Error("restUrl", $"must be an absolute http(s) URL, e.g. http://slurm-head:6820 (got '{url}')");
        if (settings.ContainsKey("token") && settings.ContainsKey("tokenFile")) throw e.Error("tokenFile", "give token or tokenFile, not both");
        if (!settings.ContainsKey("token") && !settings.ContainsKey("tokenFile")) throw e.Error("restUrl", "needs token or tokenFile (slurmrestd's JWT)");
        foreach (var key in (string[])["slurmConf", "toolDirectory"])
            if (settings.ContainsKey(key)) throw e.Error(key, "applies to the command-line tools, not with restUrl");
    }

    /// <summary>
    /// Reads every item of a list the same way: its own fields, an optional <c>notes</c> text, no
    /// unknown keys; keeps the item's mapping for the lines of errors the core raises later.
    /// </summary>
    private static List<(T Item, YamlMap Map)> Items<T>(IReadOnlyList<YamlMap> roots, string key, Func<YamlMap, T> read, bool required = true)
    {
        var items = new List<(T Item, YamlMap Map)>();
        // A required list may come from a base alone; listed nowhere, the file itself is told it lacks it.
        for (var r = 0; r < roots.Count; r++)
            foreach (var m in roots[r].List(key, required && r == roots.Count - 1 && items.Count == 0))
            {
                var item = read(m);
                m.Allow("notes");
                m.RejectUnknown();
                items.Add((item, m));
            }
        return items;
    }

    // The line of "pools[3].nodeNames": the key's own line in item pools[3] (in a block-style item each
    // key has its own line), or the item's first line when the key is absent (a default derived from
    // other fields) or the field is the item itself.
    private static long LineFor(string field, params IEnumerable<YamlMap>[] lists)
    {
        foreach (var list in lists)
            foreach (var map in list)
            {
                if (field == map.Path) return map.LineOf("");
                if (field.Length > map.Path.Length + 1 && field.StartsWith(map.Path, StringComparison.Ordinal) && field[map.Path.Length] == '.')
                    return map.LineOf(field[(map.Path.Length + 1)..]);
            }
        return 0;
    }
}
