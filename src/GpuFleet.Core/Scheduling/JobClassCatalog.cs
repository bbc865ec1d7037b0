using GpuFleet.Core.Fleets;
using GpuFleet.Core.Workloads;

namespace GpuFleet.Core.Scheduling;

/// <summary>
/// The job classes met so far (see <see cref="JobClass"/>), one per size, acceptable models, topology
/// need, pinned site and data site: where a member may be placed, at what level, in what order of
/// sites, or why it never can be. A new kind of resource a job asks for becomes part of the class key
/// and of the candidate pools here; the cycle only ever asks a class.
/// </summary>
internal sealed class JobClassCatalog
{
    private readonly Fleet _fleet;
    private readonly ClusterState _state;
    private readonly Dictionary<(int Gpus, ulong Models, TopologyNeed Need, int Site, int DataSite), JobClass> _classes = [];

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

    /// <summary>The class of jobs of this shape, made on first use.</summary>
    public JobClass ClassFor(int gpus, ulong mask, TopologyNeed need, int site, int dataSite)
    {
        if (_classes.TryGetValue((gpus, mask, need, site, dataSite), out var existing)) return existing;
        var pools = new List<int>();
        var levels = new List<PlacementLevel>();
        var preference = new List<int>();
        var position = new int[_fleet.PoolCount];
        Array.Fill(position, -1);
        var largest = 0;
        var powerBound = -1;
        for (var p = 0; p < _fleet.PoolCount; p++)
        {
            var model = _fleet.PoolModel(p);
            if ((mask & (1UL << model)) == 0) continue;
            if (site >= 0 && _fleet.PoolSite(p) != site) continue;
            var level = LevelIn(p, gpus, need, mask);
            largest = Math.Max(largest, need switch
            {
                TopologyNeed.Node => _fleet.PoolMaxNodeGpus(p),
                TopologyNeed.Domain => _fleet.PoolMaxDomainGpus(p),
                TopologyNeed.Anywhere => ModelGpus(model),
                _ => _fleet.PoolGpus(p),
            });
            if (level == PlacementLevel.Impossible) continue;
            if (level != PlacementLevel.MultiPool && gpus > _state.PoolMaxPowerRoom(p))
            {
                powerBound = Math.Max(powerBound, _state.PoolMaxPowerRoom(p));
                continue;
            }
            position[p] = pools.Count;
            pools.Add(p);
            levels.Add(level);
            preference.Add(SitePreference(dataSite, _fleet.PoolSite(p)));
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
            ImpossibleReason = pools.Count == 0 ? ImpossibleReason(gpus, need, largest, powerBound) : null,
        };
        _classes.Add((gpus, mask, need, site, dataSite), jobClass);
        return jobClass;
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
    /// Rank of a site for a job whose data lives at <paramref name="dataSite"/>: 0 there, then sites by
    /// the bandwidth of their best route from it, fastest first; sites without a route last. All 0 when
    /// the job has no data site.
    /// </summary>
    private int SitePreference(int dataSite, int site)
    {
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
