namespace GpuFleet.Core.Fleets;

/// <summary>
/// A fleet: sites, GPU models and pools, flattened into dense arrays that the scheduler indexes.
/// Node, domain and pool numbers are positions in those arrays and stay stable for the fleet's life.
/// A pool here is every GPU of one model at one site: the unit inside which a gang may span domains.
/// </summary>
public sealed class Fleet
{
    /// <summary>The most GPUs one node may have (a node's GPUs are tracked as bits of a 64-bit mask).</summary>
    public const int MaxGpusPerNode = 64;

    private readonly int[] _nodeGpus;
    private readonly int[] _nodeDomain;
    private readonly int[] _domainPool;
    private readonly int[] _domainFirstNode;
    private readonly int[] _domainNodeCount;
    private readonly int[] _domainGpus;
    private readonly int[] _poolSite;
    private readonly int[] _poolModel;
    private readonly int[] _poolGpus;
    private readonly int[] _poolMaxNodeGpus;
    private readonly int[] _poolMaxDomainGpus;
    private readonly int[][] _poolDomains;
    private readonly double[] _siteOverheadWatts;
    private readonly Dictionary<string, int> _modelIndex;
    private readonly Dictionary<string, int> _siteIndex;
    private readonly double[,] _bandwidth;
    private readonly double[,] _latency;
    // Node names: one pattern per pool specification and the first node it names (specifications
    // add their nodes in order), rather than a string per node.
    private readonly int[] _specFirstNode;
    private readonly NodeNamePattern[] _specNames;

    /// <summary>Builds and validates a fleet.</summary>
    /// <exception cref="FleetValidationException">The parts do not fit together.</exception>
    public Fleet(string name, IReadOnlyList<GpuModel> models, IReadOnlyList<Site> sites,
        IReadOnlyList<GpuPoolSpec> pools, IReadOnlyList<SiteLink>? links = null)
    {
        Name = name;
        Models = models;
        Sites = sites;
        PoolSpecs = pools;
        Links = links ?? [];
        if (models.Count == 0) throw new FleetValidationException("models", "a fleet needs at least one GPU model");
        if (models.Count > 64) throw new FleetValidationException("models", "at most 64 GPU models are supported");
        if (sites.Count == 0) throw new FleetValidationException("sites", "a fleet needs at least one site");
        _modelIndex = Index(models.Select(m => m.Name), "models");
        for (var m = 0; m < models.Count; m++) CheckSharing(models[m], m);
        _siteIndex = Index(sites.Select(s => s.Name), "sites");
        for (var i = 0; i < Links.Count; i++)
        {
            if (!_siteIndex.ContainsKey(Links[i].From)) throw new FleetValidationException($"links[{i}].from", $"unknown site '{Links[i].From}'");
            if (!_siteIndex.ContainsKey(Links[i].To)) throw new FleetValidationException($"links[{i}].to", $"unknown site '{Links[i].To}'");
            if (!double.IsFinite(Links[i].LatencyMs) || Links[i].LatencyMs < 0) throw new FleetValidationException($"links[{i}].latencyMs", "must be 0 (not stated) or more");
        }

        // Pools are (site, model) pairs in order of first appearance; several specs may feed one pool.
        var poolOf = new Dictionary<(int Site, int Model), int>();
        var poolSite = new List<int>();
        var poolModel = new List<int>();
        var poolDomains = new List<List<int>>();
        var nodeGpus = new List<int>();
        var nodeDomain = new List<int>();
        var domainPool = new List<int>();
        var domainFirst = new List<int>();
        var domainCount = new List<int>();
        _siteOverheadWatts = new double[sites.Count];
        _specFirstNode = new int[pools.Count];
        _specNames = new NodeNamePattern[pools.Count];
        var defaultNamed = new Dictionary<(int Site, int Model), int>();
        // NVLink domains named by specifications (NvlinkDomain): one domain, whose specifications are listed together.
        var namedDomains = new HashSet<(int Site, int Model, string Domain)>();
        long total = 0;
        for (var i = 0; i < pools.Count; i++)
        {
            var spec = pools[i];
            if (!_siteIndex.TryGetValue(spec.Site, out var site)) throw new FleetValidationException($"pools[{i}].site", $"unknown site '{spec.Site}'");
            if (!_modelIndex.TryGetValue(spec.Model, out var model)) throw new FleetValidationException($"pools[{i}].model", $"unknown GPU model '{spec.Model}'");
            if (spec.GpusPerNode is < 1 or > MaxGpusPerNode) throw new FleetValidationException($"pools[{i}].gpusPerNode", $"must be between 1 and {MaxGpusPerNode}");
            if (spec.NodesPerDomain < 1) throw new FleetValidationException($"pools[{i}].nodesPerDomain", "must be at least 1");
            if (spec.Domains < 1) throw new FleetValidationException($"pools[{i}].domains", "must be at least 1");
            if (spec.NodeOverheadWatts < 0) throw new FleetValidationException($"pools[{i}].nodeOverheadWatts", "must not be negative");
            if (spec.CpusPerNode < 0) throw new FleetValidationException($"pools[{i}].cpusPerNode", "must not be negative");
            if (spec.MemoryGbPerNode < 0) throw new FleetValidationException($"pools[{i}].memoryGbPerNode", "must not be negative");
            total += spec.Gpus;
            if (total > int.MaxValue / 2) throw new FleetValidationException($"pools[{i}]", "fleet too large");
            _specFirstNode[i] = nodeGpus.Count;
            _specNames[i] = NamesOf(spec, i, (site, model), defaultNamed);
            if (!poolOf.TryGetValue((site, model), out var pool))
            {
                pool = poolSite.Count;
                poolOf[(site, model)] = pool;
                poolSite.Add(site);
                poolModel.Add(model);
                poolDomains.Add([]);
            }
            // A specification that names the NVLink domain of the one before it adds its nodes to that domain (they follow its nodes).
            var joins = false;
            if (spec.NvlinkDomain is { } named)
            {
                if (spec.Domains != 1) throw new FleetValidationException($"pools[{i}].domains", $"a specification of NVLink domain '{named}' has one domain, not {spec.Domains}");
                joins = i > 0 && pools[i - 1].NvlinkDomain == named && pools[i - 1].Site == spec.Site && pools[i - 1].Model == spec.Model;
                if (!namedDomains.Add((site, model, named)) && !joins)
                    throw new FleetValidationException($"pools[{i}].nvlinkDomain", $"the specifications of NVLink domain '{named}' must be listed one after another");
            }
            for (var d = 0; d < spec.Domains; d++)
            {
                int domain;
                if (joins)
                {
                    domain = domainPool.Count - 1;
                    domainCount[domain] += spec.NodesPerDomain;
                }
                else
                {
                    domain = domainPool.Count;
                    domainPool.Add(pool);
                    domainFirst.Add(nodeGpus.Count);
                    domainCount.Add(spec.NodesPerDomain);
                    poolDomains[pool].Add(domain);
                }
                for (var n = 0; n < spec.NodesPerDomain; n++)
                {
                    nodeGpus.Add(spec.GpusPerNode);
                    nodeDomain.Add(domain);
                }
            }
            _siteOverheadWatts[site] += spec.NodeOverheadWatts * spec.NodesPerDomain * spec.Domains;
        }
        if (nodeGpus.Count == 0) throw new FleetValidationException("pools", "a fleet needs at least one pool of GPUs");
        CheckNamesUnique(pools);

        _nodeGpus = [.. nodeGpus];
        _nodeDomain = [.. nodeDomain];
        _domainPool = [.. domainPool];
        _domainFirstNode = [.. domainFirst];
        _domainNodeCount = [.. domainCount];
        _poolSite = [.. poolSite];
        _poolModel = [.. poolModel];
        _poolDomains = [.. poolDomains.Select(l => l.ToArray())];
        _domainGpus = new int[_domainPool.Length];
        _poolGpus = new int[_poolSite.Length];
        _poolMaxNodeGpus = new int[_poolSite.Length];
        _poolMaxDomainGpus = new int[_poolSite.Length];
        for (var n = 0; n < _nodeGpus.Length; n++)
        {
            var d = _nodeDomain[n];
            var p = _domainPool[d];
            _domainGpus[d] += _nodeGpus[n];
            _poolGpus[p] += _nodeGpus[n];
            _poolMaxNodeGpus[p] = Math.Max(_poolMaxNodeGpus[p], _nodeGpus[n]);
        }
        for (var d = 0; d < _domainGpus.Length; d++)
        {
            var p = _domainPool[d];
            _poolMaxDomainGpus[p] = Math.Max(_poolMaxDomainGpus[p], _domainGpus[d]);
        }
        TotalGpus = (int)total;
        _bandwidth = WidestPaths(sites.Count, _siteIndex, Links);
        _latency = ShortestPaths(sites.Count, _siteIndex, Links);
    }

    /// <summary>
    /// One-way latency between every pair of sites over the quickest route (shortest path), links being both
    /// ways; 0 within a site. A link whose latency is not stated (0) is no route for latency: without a route
    /// the latency is infinite. Floyd–Warshall over a handful of sites.
    /// </summary>
    private static double[,] ShortestPaths(int sites, Dictionary<string, int> index, IReadOnlyList<SiteLink> links)
    {
        var d = new double[sites, sites];
        for (var i = 0; i < sites; i++)
            for (var j = 0; j < sites; j++)
                d[i, j] = i == j ? 0 : double.PositiveInfinity;
        foreach (var l in links)
        {
            if (l.LatencyMs <= 0) continue;
            int x = index[l.From], y = index[l.To];
            if (x != y) d[x, y] = d[y, x] = Math.Min(d[x, y], l.LatencyMs);
        }
        for (var k = 0; k < sites; k++)
            for (var i = 0; i < sites; i++)
                for (var j = 0; j < sites; j++)
                    d[i, j] = Math.Min(d[i, j], d[i, k] + d[k, j]);
        return d;
    }

    /// <summary>One-way latency in ms between two sites over the quickest route: 0 within a site, infinite without a route of stated latencies.</summary>
    public double SiteLatencyMs(int from, int to) => _latency[from, to];

    /// <summary>
    /// One-way latency in ms from users in <paramref name="region"/> to a site: 0 to a site of that region,
    /// else the quickest route from any site of the region; infinite when the region has no site or no route.
    /// </summary>
    public double RegionLatencyMs(string region, int site)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (Sites[site].Region == region) return 0;
        var best = double.PositiveInfinity;
        for (var s = 0; s < Sites.Count; s++)
            if (Sites[s].Region == region) best = Math.Min(best, _latency[s, site]);
        return best;
    }

    /// <summary>
    /// Bandwidth between every pair of sites over the best route (widest path: the route whose slowest
    /// link is fastest), links being both ways. Floyd–Warshall over a handful of sites.
    /// </summary>
    private static double[,] WidestPaths(int sites, Dictionary<string, int> index, IReadOnlyList<SiteLink> links)
    {
        var b = new double[sites, sites];
        for (var s = 0; s < sites; s++) b[s, s] = double.PositiveInfinity;
        foreach (var l in links)
        {
            int x = index[l.From], y = index[l.To];
            b[x, y] = b[y, x] = Math.Max(b[x, y], l.Gbps);
        }
        for (var k = 0; k < sites; k++)
            for (var i = 0; i < sites; i++)
                for (var j = 0; j < sites; j++)
                    b[i, j] = Math.Max(b[i, j], Math.Min(b[i, k], b[k, j]));
        return b;
    }

    /// <summary>Best-route bandwidth in Gbit/s between two sites (infinite within a site, 0 without a route).</summary>
    public double SiteBandwidthGbps(int from, int to) => _bandwidth[from, to];

    /// <summary>Seconds to move <paramref name="gigabytes"/> of data between two sites (0 within a site, infinite without a route).</summary>
    public double TransferSeconds(int from, int to, double gigabytes) =>
        from == to || gigabytes <= 0 ? 0 : gigabytes * 8 / _bandwidth[from, to];

    /// <summary>Fleet name.</summary>
    public string Name { get; }

    /// <summary>
    /// The name of the GpuFleet installation that runs this fleet's jobs on its clusters (see
    /// <see cref="InstallationName"/>); null: runs are named <c>gpufleet-&lt;id&gt;</c>, as before installations had names.
    /// </summary>
    /// <exception cref="FleetValidationException">It is not a valid installation name.</exception>
    public string? Installation
    {
        get;
        init => field = value is null || InstallationName.Problem(value) is not { } problem ? value : throw new FleetValidationException("installation", problem);
    }
    /// <summary>GPU models, in file order; a model's position is its index.</summary>
    public IReadOnlyList<GpuModel> Models { get; }
    /// <summary>Sites, in file order; a site's position is its index.</summary>
    public IReadOnlyList<Site> Sites { get; }
    /// <summary>The pool specifications the fleet was built from.</summary>
    public IReadOnlyList<GpuPoolSpec> PoolSpecs { get; }
    /// <summary>Links between sites.</summary>
    public IReadOnlyList<SiteLink> Links { get; }
    /// <summary>GPUs in the fleet.</summary>
    public int TotalGpus { get; }
    /// <summary>Nodes in the fleet.</summary>
    public int NodeCount => _nodeGpus.Length;
    /// <summary>NVLink domains in the fleet.</summary>
    public int DomainCount => _domainPool.Length;
    /// <summary>Pools (site × model pairs) in the fleet.</summary>
    public int PoolCount => _poolSite.Length;

    /// <summary>Name of node <paramref name="node"/>, e.g. <c>national-sejong-gb200-0001</c> (built on each call).</summary>
    public string NodeName(int node)
    {
        if ((uint)node >= (uint)_nodeGpus.Length) throw new ArgumentOutOfRangeException(nameof(node), node, "no such node");
        var spec = SpecOf(node);
        return _specNames[spec].Name(node - _specFirstNode[spec]);
    }

    /// <summary>Node named <paramref name="name"/> (letter case aside, as in host names), or -1.</summary>
    public int NodeIndex(string name)
    {
        if (HostList.Split(name) is not { } split) return -1;
        var (prefix, number, digits) = split;
        for (var s = 0; s < _specNames.Length; s++)
        {
            var names = _specNames[s];
            var count = (s + 1 < _specFirstNode.Length ? _specFirstNode[s + 1] : _nodeGpus.Length) - _specFirstNode[s];
            if (number >= names.First && number - names.First < count && string.Equals(prefix, names.Prefix, StringComparison.OrdinalIgnoreCase)
                && NodeNamePattern.Number(number, names.Width) == digits)
                return _specFirstNode[s] + number - names.First;
        }
        return -1;
    }

    /// <summary>How the nodes of pool specification <paramref name="spec"/> (a position in <see cref="PoolSpecs"/>) are named.</summary>
    public NodeNamePattern SpecNodeNames(int spec) => _specNames[spec];
    /// <summary>First node of pool specification <paramref name="spec"/>; its nodes are contiguous.</summary>
    public int SpecFirstNode(int spec) => _specFirstNode[spec];

    /// <summary>The pool specification (a position in <see cref="PoolSpecs"/>) node <paramref name="node"/> comes from.</summary>
    public int NodeSpec(int node) => (uint)node < (uint)_nodeGpus.Length ? SpecOf(node) : throw new ArgumentOutOfRangeException(nameof(node), node, "no such node");

    /// <summary>Index of a model by name, or -1.</summary>
    public int ModelIndex(string name) => _modelIndex.TryGetValue(name, out var i) ? i : -1;
    /// <summary>Index of a site by name, or -1.</summary>
    public int SiteIndex(string name) => _siteIndex.TryGetValue(name, out var i) ? i : -1;
    /// <summary>GPUs in node <paramref name="node"/>.</summary>
    public int NodeGpus(int node) => _nodeGpus[node];
    /// <summary>Domain of node <paramref name="node"/>.</summary>
    public int NodeDomain(int node) => _nodeDomain[node];
    /// <summary>Pool of node <paramref name="node"/>.</summary>
    public int NodePool(int node) => _domainPool[_nodeDomain[node]];
    /// <summary>Pool of domain <paramref name="domain"/>.</summary>
    public int DomainPool(int domain) => _domainPool[domain];
    /// <summary>First node of domain <paramref name="domain"/>; its nodes are contiguous.</summary>
    public int DomainFirstNode(int domain) => _domainFirstNode[domain];
    /// <summary>Nodes in domain <paramref name="domain"/>.</summary>
    public int DomainNodeCount(int domain) => _domainNodeCount[domain];
    /// <summary>GPUs in domain <paramref name="domain"/>.</summary>
    public int DomainGpus(int domain) => _domainGpus[domain];
    /// <summary>Site of pool <paramref name="pool"/>.</summary>
    public int PoolSite(int pool) => _poolSite[pool];
    /// <summary>Model of pool <paramref name="pool"/>.</summary>
    public int PoolModel(int pool) => _poolModel[pool];
    /// <summary>GPUs in pool <paramref name="pool"/>.</summary>
    public int PoolGpus(int pool) => _poolGpus[pool];
    /// <summary>Largest node in pool <paramref name="pool"/>.</summary>
    public int PoolMaxNodeGpus(int pool) => _poolMaxNodeGpus[pool];
    /// <summary>Largest domain in pool <paramref name="pool"/>.</summary>
    public int PoolMaxDomainGpus(int pool) => _poolMaxDomainGpus[pool];
    /// <summary>Domains of pool <paramref name="pool"/>.</summary>
    public ReadOnlySpan<int> PoolDomains(int pool) => _poolDomains[pool];
    /// <summary>Power of a site's nodes besides their GPUs, in watts.</summary>
    public double SiteOverheadWatts(int site) => _siteOverheadWatts[site];

    /// <summary>
    /// Facility energy a job is charged for GPU time on a model at a site: the GPUs' busy power × the
    /// site's PUE (the twin's per-job accounting and the service's usage report both use this).
    /// </summary>
    public double BusyEnergyJoules(int model, int site, double gpuSeconds) => gpuSeconds * Models[model].BusyWatts * Sites[site].Pue;

    /// <summary>What <paramref name="joules"/> cost at the site's electricity price.</summary>
    public double EnergyCost(int site, double joules) => joules / 3.6e9 * Sites[site].PricePerMwh;

    /// <summary>GPUs of each model, summed over sites.</summary>
    public IReadOnlyDictionary<string, int> GpusByModel()
    {
        var result = new Dictionary<string, int>();
        for (var p = 0; p < PoolCount; p++)
        {
            var name = Models[_poolModel[p]].Name;
            result[name] = result.GetValueOrDefault(name) + _poolGpus[p];
        }
        return result;
    }

    /// <summary>GPUs at each site.</summary>
    public int SiteGpus(int site)
    {
        var sum = 0;
        for (var p = 0; p < PoolCount; p++) if (_poolSite[p] == site) sum += _poolGpus[p];
        return sum;
    }

    /// <summary>
    /// Facility power of a site in watts with <paramref name="busyByPool"/> GPUs busy in each pool:
    /// (busy × busy watts + idle × idle watts + node overhead) × PUE. Node overhead is taken as constant.
    /// </summary>
    public double SitePowerWatts(int site, ReadOnlySpan<int> busyByPool)
    {
        var it = _siteOverheadWatts[site];
        for (var p = 0; p < PoolCount; p++)
        {
            if (_poolSite[p] != site) continue;
            var model = Models[_poolModel[p]];
            it += busyByPool[p] * model.BusyWatts + (_poolGpus[p] - busyByPool[p]) * model.IdleWatts;
        }
        return it * Sites[site].Pue;
    }

    /// <summary>CPU cores of a node that jobs may use (0: not counted).</summary>
    public int NodeCpus(int node) => PoolSpecs[SpecOf(node)].CpusPerNode;

    /// <summary>Memory of a node that jobs may use, in GB (0: not counted).</summary>
    public int NodeMemoryGb(int node) => PoolSpecs[SpecOf(node)].MemoryGbPerNode;

    /// <summary>Whether some model may be shared (MIG or time-sharing).</summary>
    public bool HasSharing => Models.Any(m => m.Sharing is not null);

    /// <summary>Whether some node counts its CPUs or memory.</summary>
    public bool CountsCpuOrMemory => PoolSpecs.Any(p => p.CpusPerNode > 0 || p.MemoryGbPerNode > 0);

    private static void CheckSharing(GpuModel model, int m)
    {
        if (model.Sharing is not { } sharing) return;
        var at = $"models[{m}].sharing";
        if (sharing.MigProfiles.Count > 0)
        {
            if (sharing.ComputeSlices is < 1 or > 8) throw new FleetValidationException($"{at}.computeSlices", "must be between 1 and 8");
            if (sharing.MemorySlices is < 1 or > 32) throw new FleetValidationException($"{at}.memorySlices", "must be between 1 and 32");
        }
        if (sharing.ReconfigureSeconds < 0) throw new FleetValidationException($"{at}.reconfigureSeconds", "must not be negative");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < sharing.MigProfiles.Count; i++)
        {
            var p = sharing.MigProfiles[i];
            var pat = $"{at}.migProfiles[{i}]";
            if (string.IsNullOrWhiteSpace(p.Name)) throw new FleetValidationException($"{pat}.name", "must not be empty");
            if (!names.Add(p.Name)) throw new FleetValidationException($"{pat}.name", $"duplicate profile '{p.Name}'");
            if (p.ComputeSlices < 1 || p.ComputeSlices > sharing.ComputeSlices)
                throw new FleetValidationException($"{pat}.computeSlices", $"must be between 1 and {sharing.ComputeSlices}");
            if (p.MemorySlices < 1 || p.MemorySlices > sharing.MemorySlices)
                throw new FleetValidationException($"{pat}.memorySlices", $"must be between 1 and {sharing.MemorySlices}");
            if (!(p.MemoryGb > 0) || p.MemoryGb > model.MemoryGb)
                throw new FleetValidationException($"{pat}.memoryGb", $"must be above 0 and at most the GPU's {model.MemoryGb} GB");
            if (p.Placements.Count == 0) throw new FleetValidationException($"{pat}.placements", "must list at least one memory slice");
            foreach (var start in p.Placements)
                if (start < 0 || start + p.MemorySlices > sharing.MemorySlices)
                    throw new FleetValidationException($"{pat}.placements", $"an instance at {start} would run past memory slice {sharing.MemorySlices - 1}");
            if (GpuSharing.UnitsPerGpu * p.ComputeSlices % sharing.ComputeSlices != 0)
                throw new FleetValidationException($"{pat}.computeSlices", $"{p.ComputeSlices} of {sharing.ComputeSlices} is not a whole number of compute units");
        }
    }

    // The specification holding a node: the last one whose first node is at or before it.
    private int SpecOf(int node)
    {
        var at = Array.BinarySearch(_specFirstNode, node);
        return at >= 0 ? at : ~at - 1;
    }

    private static NodeNamePattern NamesOf(GpuPoolSpec spec, int i, (int Site, int Model) pool, Dictionary<(int Site, int Model), int> defaultNamed)
    {
        var nodes = spec.NodesPerDomain * spec.Domains;
        var named = NodeNamePattern.Parse(spec.NodeNames ?? NodeNamePattern.Default, spec.Site, spec.Model, out var problem)
            ?? throw new FleetValidationException($"pools[{i}].nodeNames", spec.NodeNames is null
                ? $"site '{spec.Site}' and model '{spec.Model}' give no default node name ({problem}); name the nodes with nodeNames"
                : $"'{spec.NodeNames}' {problem}");
        if (spec.NodeNames is null)
        {
            // Default names go on counting over the specifications of one site and model.
            var before = defaultNamed.GetValueOrDefault(pool);
            defaultNamed[pool] = before + nodes;
            named = named with { First = named.First + before };
        }
        if ((long)named.First + nodes - 1 > int.MaxValue)
            throw new FleetValidationException($"pools[{i}].nodeNames", $"{nodes} nodes from {named.First} run past the largest counter");
        return named;
    }

    // Two specifications give one name when their prefixes match (letter case aside: host names ignore
    // it) and some number is in both ranges and written alike: same padding, or a number with at least
    // as many digits as the wider padding. Specifications are few, so every pair is compared; the
    // names themselves are never built.
    private void CheckNamesUnique(IReadOnlyList<GpuPoolSpec> pools)
    {
        for (var b = 1; b < _specNames.Length; b++)
        {
            for (var a = 0; a < b; a++)
            {
                var (x, y) = (_specNames[a], _specNames[b]);
                if (!string.Equals(x.Prefix, y.Prefix, StringComparison.OrdinalIgnoreCase)) continue;
                long from = Math.Max(x.First, y.First);
                long to = Math.Min(x.First + SpecNodeCount(pools[a]) - 1L, y.First + SpecNodeCount(pools[b]) - 1L);
                if (x.Width != y.Width) from = Math.Max(from, (long)Math.Pow(10, Math.Max(x.Width, y.Width) - 1));
                if (from > to) continue;
                var name = y.Name((int)(from - y.First));
                throw new FleetValidationException($"pools[{b}].nodeNames",
                    $"node name '{name}' is also given by pools[{a}]{(pools[a].NodeNames is null && pools[b].NodeNames is null ? " (both named by default: set nodeNames on one)" : "")}");
            }
        }
    }

    private static int SpecNodeCount(GpuPoolSpec spec) => spec.NodesPerDomain * spec.Domains;

    private static Dictionary<string, int> Index(IEnumerable<string> names, string field)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var at = $"{field}[{result.Count}].name";
            if (string.IsNullOrWhiteSpace(name)) throw new FleetValidationException(at, "must not be empty");
            if (!result.TryAdd(name, result.Count)) throw new FleetValidationException(at, $"duplicate name '{name}'");
        }
        return result;
    }
}
