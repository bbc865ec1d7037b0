using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The job classes met so far (see <see cref="JobClass"/>), one per size, acceptable models, topology
/// need, pinned site, data site and list of sites: where a member may be placed, at what level, in what order of
/// sites, or why it never can be. A new kind of resource a job asks for becomes part of the class key
/// and of the candidate pools here; the cycle only ever asks a class.
/// </summary>
internal sealed class JobClassCatalog
{
    private readonly Fleet _fleet;
    private readonly ClusterState _state;
    private readonly Dictionary<(int Gpus, ulong Models, TopologyNeed Need, int Site, int DataSite, NodeDemand Demand, string? Slice, string? Sites), JobClass> _classes = [];
    private readonly Dictionary<string, SliceShape> _slices = new(StringComparer.Ordinal);
    private readonly List<JobClass> _list = [];

    /// <summary>Classes made so far: one per distinct job shape met (the memory the catalogue holds).</summary>
    public int Count => _classes.Count;

    public JobClassCatalog(Fleet fleet, ClusterState state)
    {
        _fleet = fleet;
        _state = state;
        AllModels = fleet.Models.Count == 64 ? ulong.MaxValue : (1UL << fleet.Models.Count) - 1;
    }

    /// <summary>The mask of every model of the fleet: a job that names none accepts them all.</summary>
    public ulong AllModels { get; }

    /// <summary>Every class made so far, in the order made.</summary>
    public IReadOnlyList<JobClass> All => _list;

    /// <summary>The slice request resolved against the fleet's models, one object per distinct request.</summary>
    public SliceShape ShapeOf(SliceRequest request)
    {
        var key = request.ToString();
        if (!_slices.TryGetValue(key, out var shape)) _slices[key] = shape = new SliceShape(request, _fleet);
        return shape;
    }

    /// <summary>
    /// The class of jobs of this shape, made on first use. With <paramref name="sites"/> (site indexes, most
    /// preferred first) only pools at those sites are candidates, ranked by the site's position in the list.
    /// </summary>
    public JobClass ClassFor(int gpus, ulong mask, TopologyNeed need, int site, int dataSite, NodeDemand demand = default, SliceShape? slice = null, int[]? sites = null)
    {
        var classKey = (gpus, mask, need, site, dataSite, demand, slice?.Key, sites is null ? null : string.Join(',', sites));
        if (_classes.TryGetValue(classKey, out var existing)) return existing;
        if (slice is not null) return Add(classKey, SliceClass(gpus, mask, site, dataSite, demand, slice, sites));
        var pools = new List<int>();
        var levels = new List<PlacementLevel>();
        var preference = new List<int>();
        var position = new int[_fleet.PoolCount];
        Array.Fill(position, -1);
        var largest = 0;
        var powerBound = -1;
        var cpuBound = false;
        for (var p = 0; p < _fleet.PoolCount; p++)
        {
            var model = _fleet.PoolModel(p);
            if (!Admits(p, mask, site, sites)) continue;
            var level = LevelIn(p, gpus, need, mask);
            largest = Math.Max(largest, need switch
            {
                TopologyNeed.Node => _fleet.PoolMaxNodeGpus(p),
                TopologyNeed.Domain => _fleet.PoolMaxDomainGpus(p),
                TopologyNeed.Anywhere => ModelGpus(model),
                _ => _fleet.PoolGpus(p),
            });
            if (level == PlacementLevel.Impossible) continue;
            if (!demand.IsNone && !NodesHoldDemand(p, level == PlacementLevel.Node ? gpus : 1, demand))
            {
                cpuBound = true;
                continue;
            }
            if (level != PlacementLevel.MultiPool && gpus > _state.PoolMaxPowerRoom(p))
            {
                powerBound = Math.Max(powerBound, _state.PoolMaxPowerRoom(p));
                continue;
            }
            position[p] = pools.Count;
            pools.Add(p);
            levels.Add(level);
            preference.Add(SitePreference(dataSite, sites, _fleet.PoolSite(p)));
        }
        var jobClass = new JobClass
        {
            Id = _classes.Count,
            Gpus = gpus,
            ModelMask = mask,
            Need = need,
            Pools = [.. pools],
            Levels = [.. levels],
            PoolPosition = position,
            Preference = [.. preference],
            Site = site,
            DataSite = dataSite,
            Sites = sites,
            Demand = demand,
            UnitsByModel = Enumerable.Repeat((long)gpus * GpuSharing.UnitsPerGpu, _fleet.Models.Count).ToArray(),
            ImpossibleReason = pools.Count > 0 ? null
                : cpuBound && powerBound < 0 ? $"cpusPerGpu/memoryGbPerGpu: no node of an acceptable model has {DemandText(demand, need == TopologyNeed.Node || gpus <= largest ? gpus : 1)}"
                : largest == 0 && powerBound < 0 && sites is not null ? $"sites: no GPU of an acceptable model at {string.Join(", ", sites.Select(x => _fleet.Sites[x].Name))}"
                : ImpossibleReason(gpus, need, largest, powerBound),
        };
        return Add(classKey, jobClass);
    }

    private JobClass Add((int, ulong, TopologyNeed, int, int, NodeDemand, string?, string?) key, JobClass jobClass)
    {
        _classes.Add(key, jobClass);
        _list.Add(jobClass);
        return jobClass;
    }

    /// <summary>
    /// A class of slice jobs: every member of the gang on one node, on pools whose model serves the slice
    /// and whose nodes can hold the whole gang (slices, CPU and memory).
    /// </summary>
    private JobClass SliceClass(int gpus, ulong mask, int site, int dataSite, NodeDemand demand, SliceShape slice, int[]? sites)
    {
        var pools = new List<int>();
        var preference = new List<int>();
        var position = new int[_fleet.PoolCount];
        Array.Fill(position, -1);
        var units = new long[_fleet.Models.Count];
        string? why = null;
        var served = false;
        for (var p = 0; p < _fleet.PoolCount; p++)
        {
            var model = _fleet.PoolModel(p);
            if (!Admits(p, mask, site, sites)) continue;
            var fit = slice.On(model);
            if (!fit.Serves) continue;
            served = true;
            units[model] = (long)gpus * fit.Units;
            var perNode = (long)_fleet.PoolMaxNodeGpus(p) * fit.PerEmptyGpu((long)(_fleet.Models[model].MemoryGb * 1000));
            if (gpus > perNode)
            {
                why = $"gpus: {gpus} slices of {slice.Key} never fit on one node (at most {perNode} on {_fleet.Models[model].Name})";
                continue;
            }
            if (!demand.IsNone && !NodesHoldDemand(p, gpus, demand))
            {
                why = $"cpusPerGpu/memoryGbPerGpu: no node of an acceptable model has {DemandText(demand, gpus)}";
                continue;
            }
            if (_state.PoolMaxPowerRoom(p) < 1)
            {
                why = "gpus: no GPU of an acceptable model can run under its site's power cap";
                continue;
            }
            position[p] = pools.Count;
            pools.Add(p);
            preference.Add(SitePreference(dataSite, sites, _fleet.PoolSite(p)));
        }
        if (!served && sites is not null)
            why = $"sites: no GPU of an acceptable model at {string.Join(", ", sites.Select(x => _fleet.Sites[x].Name))} serves slice {slice.Key}";
        else if (!served)
            why = slice.Request.MigProfile is { } name
                ? $"slice: no acceptable GPU model has MIG profile '{name}' (profiles: {ProfileNames(mask)})"
                : $"slice: no acceptable GPU model can share a GPU for {slice.Key} (fraction:memoryGb); none time-shares, and no MIG profile covers it";
        return new JobClass
        {
            Id = _classes.Count,
            Gpus = gpus,
            ModelMask = mask,
            Need = TopologyNeed.Node,
            Pools = [.. pools],
            Levels = [.. pools.Select(_ => PlacementLevel.Node)],
            PoolPosition = position,
            Preference = [.. preference],
            Site = site,
            DataSite = dataSite,
            Sites = sites,
            Demand = demand,
            Slice = slice,
            UnitsByModel = units,
            ImpossibleReason = pools.Count == 0 ? why : null,
        };
    }

    /// <summary>
    /// Whether a pool may take a job of these models, pinned site and list of sites: its model is acceptable, it
    /// is at the pinned site or one of the listed ones, and a dedicated site is named by the job.
    /// </summary>
    private bool Admits(int pool, ulong mask, int site, int[]? sites)
    {
        var at = _fleet.PoolSite(pool);
        return (mask & (1UL << _fleet.PoolModel(pool))) != 0
            && (site < 0 || at == site)
            && (sites is null || Array.IndexOf(sites, at) >= 0)
            && (!_fleet.Sites[at].Dedicated || site >= 0 || sites is not null);
    }

    private string ProfileNames(ulong mask)
    {
        var names = _fleet.Models.Where((m, i) => (mask & (1UL << i)) != 0 && m.Sharing is not null)
            .SelectMany(m => m.Sharing!.MigProfiles.Select(p => $"{m.Name} {p.Name}"));
        var text = string.Join(", ", names);
        return text.Length == 0 ? "none" : text;
    }

    /// <summary>Whether some node of the pool could ever hold <paramref name="count"/> GPUs' worth of the demand.</summary>
    private bool NodesHoldDemand(int pool, int count, NodeDemand demand)
    {
        for (var spec = 0; spec < _fleet.PoolSpecs.Count; spec++)
        {
            var s = _fleet.PoolSpecs[spec];
            if (_fleet.NodePool(_fleet.SpecFirstNode(spec)) != pool) continue;
            if ((s.CpusPerNode == 0 || demand.CpuMilli(count) <= s.CpusPerNode * 1000L)
                && (s.MemoryGbPerNode == 0 || demand.MemoryMb(count) <= s.MemoryGbPerNode * 1000L)) return true;
        }
        return false;
    }

    private static string DemandText(NodeDemand demand, int count)
    {
        var parts = new List<string>();
        if (demand.CpusPerGpu > 0) parts.Add(FormattableString.Invariant($"{demand.CpuMilli(count) / 1000.0} CPU cores"));
        if (demand.MemoryGbPerGpu > 0) parts.Add(FormattableString.Invariant($"{demand.MemoryMb(count) / 1000.0} GB of memory"));
        return $"{string.Join(" and ", parts)} for {count} GPU{(count == 1 ? "" : "s")}";
    }

    /// <summary>Why a class with no candidate pool can never run: power caps, no GPU of its models, or no unit large enough.</summary>
    private static string ImpossibleReason(int gpus, TopologyNeed need, int largest, int powerBound)
    {
        var scope = need switch
        {
            TopologyNeed.Node => "one node",
            TopologyNeed.Domain => "one NVLink domain",
            TopologyNeed.Anywhere => "the fleet",
            _ => "one site",
        };
        return powerBound >= 0
            ? $"gpus: {gpus} GPUs can never run together under the power caps of the sites that have them (at most {powerBound})"
            : largest == 0
            ? "gpus: no GPU of the acceptable models exists in this fleet"
            : $"gpus: {gpus} GPUs can never fit within {scope} of this fleet (largest: {largest} GPUs of an acceptable model)";
    }

    /// <summary>
    /// Rank of a site: its position in <paramref name="sites"/> when the job lists its sites; else, for a job
    /// whose data lives at <paramref name="dataSite"/>, 0 there, then sites by the bandwidth of their best
    /// route from it, fastest first, sites without a route last. All 0 when the job has neither.
    /// </summary>
    private int SitePreference(int dataSite, int[]? sites, int site)
    {
        if (sites is not null) return Array.IndexOf(sites, site);
        if (dataSite < 0 || site == dataSite) return 0;
        var bandwidth = _fleet.SiteBandwidthGbps(dataSite, site);
        var rank = 1;
        for (var s = 0; s < _fleet.Sites.Count; s++)
            if (s != dataSite && _fleet.SiteBandwidthGbps(dataSite, s) > bandwidth) rank++;
        return bandwidth > 0 ? rank : int.MaxValue - 1;
    }

    /// <summary>The tightest unit of a pool that holds <paramref name="gpus"/> GPUs, as far as the job's topology need allows.</summary>
    private PlacementLevel LevelIn(int pool, int gpus, TopologyNeed need, ulong mask)
    {
        if (gpus <= _fleet.PoolMaxNodeGpus(pool)) return PlacementLevel.Node;
        if (need == TopologyNeed.Node) return PlacementLevel.Impossible;
        if (gpus <= _fleet.PoolMaxDomainGpus(pool)) return PlacementLevel.Domain;
        if (need == TopologyNeed.Domain) return PlacementLevel.Impossible;
        if (gpus <= _fleet.PoolGpus(pool)) return PlacementLevel.Pool;
        if (need == TopologyNeed.Anywhere && (mask & (1UL << _fleet.PoolModel(pool))) != 0 && gpus <= ModelGpus(_fleet.PoolModel(pool)))
            return PlacementLevel.MultiPool;
        return PlacementLevel.Impossible;
    }

    private int ModelGpus(int model)
    {
        var sum = 0;
        for (var p = 0; p < _fleet.PoolCount; p++) if (_fleet.PoolModel(p) == model) sum += _fleet.PoolGpus(p);
        return sum;
    }
}
